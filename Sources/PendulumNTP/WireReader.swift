/// A bounds-aware big-endian cursor over received bytes. Callers check `remaining` before
/// reading; the read methods themselves never step past the end (they would trap, which the
/// callers' checks and the fuzz targets rule out).
struct WireReader {
    private let bytes: [UInt8]
    private(set) var position: Int

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        position = bytes.startIndex
    }

    var remaining: Int { bytes.endIndex - position }

    mutating func readByte() -> UInt8 {
        defer { position += 1 }
        return bytes[position]
    }

    mutating func readUInt16() -> UInt16 {
        UInt16(readByte()) << 8 | UInt16(readByte())
    }

    mutating func readUInt32() -> UInt32 {
        UInt32(readUInt16()) << 16 | UInt32(readUInt16())
    }

    mutating func readUInt64() -> UInt64 {
        UInt64(readUInt32()) << 32 | UInt64(readUInt32())
    }

    mutating func readBytes(_ count: Int) -> [UInt8] {
        defer { position += count }
        return Array(bytes[position..<position + count])
    }

    func peekUInt16(at offset: Int) -> UInt16 {
        UInt16(bytes[position + offset]) << 8 | UInt16(bytes[position + offset + 1])
    }
}

extension Array where Element == UInt8 {
    mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        var bigEndian = value.bigEndian
        Swift.withUnsafeBytes(of: &bigEndian) { append(contentsOf: $0) }
    }
}
