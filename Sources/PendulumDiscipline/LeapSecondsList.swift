import PendulumTime

/// The text of an IERS leap-seconds.list, parsed: NTP-era timestamps turned into Unix seconds.
///
/// Format (IERS, as shipped by tzdata): `#$ T` is the last update, `#@ T` the expiry,
/// `T OFFSET [# comment]` a line per leap second (from NTP time T, TAI − UTC is OFFSET), `#h`
/// five 32-bit hexadecimal words of SHA-1 over the digits of the `#$`, `#@` and entry lines,
/// and any other line starting with `#` a comment. Hashing is the reader's job (this module
/// has no cryptography): `hashedText` and `declaredHash` are what it needs.
public struct LeapSecondsList: Sendable, Hashable {
    public static let maximumSize = 65_536
    /// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
    public static let ntpToUnix: Int64 = 2_208_988_800
    /// NTP seconds the list may name: era 0 and the next, far beyond any published list.
    static let ntpRange: ClosedRange<Int64> = 0...(Int64(1) << 33)

    public let table: LeapSecondTable
    /// The digits the `#h` hash is computed over, in file order.
    public let hashedText: String
    /// The 20 bytes of the `#h` line, when there is one.
    public let declaredHash: [UInt8]?

    public init(parsing text: String) throws(LeapSecondsListError) {
        guard text.utf8.count <= Self.maximumSize else { throw .tooLarge(text.utf8.count) }
        var entries: [LeapSecondTable.Entry] = []
        var update: Int64?
        var expiry: Int64?
        var hash: [UInt8]?
        var hashed = ""
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            if line.hasPrefix("#$") || line.hasPrefix("#@") {
                let fields = line.dropFirst(2).split(whereSeparator: Self.isBlank)
                guard fields.count == 1, let seconds = Self.ntpSeconds(fields[0]) else { throw .malformedLine(lineNumber) }
                hashed += fields[0]
                if line.hasPrefix("#$") { update = seconds } else { expiry = seconds }
            } else if line.hasPrefix("#h") {
                hash = try Self.hash(line.dropFirst(2), line: lineNumber)
            } else if line.hasPrefix("#") {
                continue
            } else {
                let data = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
                let fields = data.split(whereSeparator: Self.isBlank)
                if fields.isEmpty { continue }
                guard fields.count == 2, let seconds = Self.ntpSeconds(fields[0]),
                    fields[1].count <= 6, fields[1].allSatisfy(\.isASCIIDigit), let offset = Int(fields[1])
                else { throw .malformedLine(lineNumber) }
                hashed += fields[0] + fields[1]
                entries.append(LeapSecondTable.Entry(start: seconds - Self.ntpToUnix, taiOffset: offset))
            }
        }
        guard let update else { throw .missingUpdateTime }
        guard let expiry else { throw .missingExpiry }
        table = try LeapSecondTable(entries: entries, lastUpdate: update - Self.ntpToUnix, expiry: expiry - Self.ntpToUnix)
        hashedText = hashed
        declaredHash = hash
    }

    private static func isBlank(_ character: Character) -> Bool { character == " " || character == "\t" }

    private static func ntpSeconds(_ field: Substring) -> Int64? {
        guard field.count <= 12, field.allSatisfy(\.isASCIIDigit), let value = Int64(field), ntpRange.contains(value) else { return nil }
        return value
    }

    private static func hash(_ text: Substring, line: Int) throws(LeapSecondsListError) -> [UInt8] {
        let words = text.split(whereSeparator: isBlank)
        guard words.count == 5 else { throw .malformedHash(line) }
        var bytes: [UInt8] = []
        for word in words {
            guard word.count == 8, let value = UInt32(word, radix: 16), word.allSatisfy(\.isHexDigit) else { throw .malformedHash(line) }
            bytes += [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
        }
        return bytes
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
