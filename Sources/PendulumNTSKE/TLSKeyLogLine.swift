/// One line of the NSS key log format that TLS libraries emit through their key-log hook:
/// `LABEL <client random hex> <secret hex>`.
///
/// swift-nio-ssl has no API for RFC 5705/8446 exporters, but it reports TLS 1.3's
/// EXPORTER_SECRET through its key-log callback; NTS keys are derived from that secret
/// (RFC 8446 §7.5). The secret never leaves memory: nothing here logs or prints it.
struct TLSKeyLogLine: Sendable {
    var label: String
    var clientRandom: [UInt8]
    var secret: [UInt8]

    init?(_ text: String) {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 3,
              let random = Self.decodeHex(parts[1]),
              let secret = Self.decodeHex(parts[2].trimmingSuffix { $0 == "\n" || $0 == "\r" })
        else { return nil }
        label = String(parts[0])
        clientRandom = random
        self.secret = secret
    }

    static let exporterSecretLabel = "EXPORTER_SECRET"

    private static func decodeHex(_ text: Substring) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0, !digits.isEmpty else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

extension Substring {
    fileprivate func trimmingSuffix(while predicate: (Character) -> Bool) -> Substring {
        var result = self
        while let last = result.last, predicate(last) { result = result.dropLast() }
        return result
    }
}
