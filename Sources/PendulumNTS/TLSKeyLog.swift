/// Reading the NSS key-log format ("LABEL <client random hex> <secret hex>") that TLS stacks
/// hand to key-log callbacks; NTS needs only the exporter master secret from it.
public enum TLSKeyLog {
    /// The secret of an `EXPORTER_SECRET` line, or nil for any other or malformed line.
    public static func exporterSecret(fromLine line: [UInt8]) -> [UInt8]? {
        let text = String(decoding: line, as: UTF8.self)
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\r" })
        guard parts.count == 3, parts[0] == "EXPORTER_SECRET" else { return nil }
        return decodeHex(parts[2])
    }

    /// The exporter hash follows from the secret's length: it is one hash output long.
    public static func hash(forSecretLength length: Int) -> TLSExporter.Hash? {
        switch length {
        case 32: .sha256
        case 48: .sha384
        default: nil
        }
    }

    static func decodeHex(_ text: Substring) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard !digits.isEmpty, digits.count % 2 == 0 else { return nil }
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
