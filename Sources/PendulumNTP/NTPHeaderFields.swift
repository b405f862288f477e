/// The three-bit association mode of an NTP header. All eight values are representable so that
/// a parser can report exactly which one it refused.
public enum NTPMode: UInt8, Sendable, Hashable, CaseIterable {
    case reserved = 0
    case symmetricActive = 1
    case symmetricPassive = 2
    case client = 3
    case server = 4
    case broadcast = 5
    case control = 6
    case privateUse = 7
}

/// The 32-bit reference identifier: four ASCII characters for stratum 0–1 (a kiss code or a
/// reference clock name), an IPv4 address or an IPv6 address hash for higher strata.
public struct ReferenceID: Sendable, Hashable {
    public var rawValue: UInt32

    public init(rawValue: UInt32) {
        self.rawValue = rawValue
    }

    /// Up to four ASCII characters, zero padded on the right as RFC 5905 prescribes.
    public init(ascii: String) {
        var value: UInt32 = 0
        var bytes = Array(ascii.utf8.prefix(4))
        bytes += Array(repeating: 0, count: 4 - bytes.count)
        for byte in bytes { value = value << 8 | UInt32(byte) }
        rawValue = value
    }

    public init(ipv4 octets: (UInt8, UInt8, UInt8, UInt8)) {
        rawValue = UInt32(octets.0) << 24 | UInt32(octets.1) << 16 | UInt32(octets.2) << 8 | UInt32(octets.3)
    }

    public var bytes: [UInt8] {
        [UInt8(truncatingIfNeeded: rawValue >> 24), UInt8(truncatingIfNeeded: rawValue >> 16),
         UInt8(truncatingIfNeeded: rawValue >> 8), UInt8(truncatingIfNeeded: rawValue)]
    }

    /// The identifier as text when every byte is printable ASCII (trailing zeros dropped),
    /// else nil.
    public var asciiText: String? {
        var characters = bytes
        while characters.last == 0 { characters.removeLast() }
        guard !characters.isEmpty, characters.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return nil }
        return String(decoding: characters, as: UTF8.self)
    }

    /// Dotted-quad rendering, the usual display for stratum ≥ 2.
    public var dottedQuad: String {
        bytes.map(String.init).joined(separator: ".")
    }

    /// Hexadecimal rendering, e.g. "7F7F0101" as chronyc shows it.
    public var hex: String {
        let text = String(rawValue, radix: 16, uppercase: true)
        return String(repeating: "0", count: 8 - text.count) + text
    }

    /// The one way Pendulum shows a reference id to people, as `chronyc tracking` does:
    /// eight hex digits and, in parentheses, what they stand for: text for stratum 0–1 and
    /// kiss codes ("4C4F434C (LOCL)"), the IPv4 address (or IPv6 hash) above
    /// ("7F7F0101 (127.127.1.1)").
    public func displayText(stratum: UInt8) -> String {
        if stratum <= 1 || stratum >= 16, let text = asciiText { return "\(hex) (\(text))" }
        return "\(hex) (\(dottedQuad))"
    }

    /// Parses the eight hex digits of `hex`.
    public init?(hex text: String) {
        guard text.utf8.count == 8, let value = UInt32(text, radix: 16) else { return nil }
        self.init(rawValue: value)
    }

    public static let kissDeny = ReferenceID(ascii: "DENY")
    public static let kissRestrict = ReferenceID(ascii: "RSTR")
    public static let kissRate = ReferenceID(ascii: "RATE")
    public static let kissNTSNak = ReferenceID(ascii: "NTSN")
}
