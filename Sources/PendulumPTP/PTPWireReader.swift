import PendulumTime

/// A big-endian cursor over a received message. The parser checks `remaining` before each
/// fixed-size read, so the reads themselves never step past the end.
struct PTPWireReader {
    private let bytes: [UInt8]
    private(set) var position: Int
    let end: Int

    init(_ bytes: [UInt8], end: Int) {
        self.bytes = bytes
        position = bytes.startIndex
        self.end = Swift.min(end, bytes.endIndex)
    }

    var remaining: Int { end - position }

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

    /// 10 bytes: 48-bit seconds, 32-bit nanoseconds.
    mutating func readTimestamp() -> PTPTimestamp {
        let high = UInt64(readUInt16())
        let low = UInt64(readUInt32())
        let seconds = high << 32 | low
        return PTPTimestamp(seconds: seconds, nanoseconds: readUInt32())
    }

    /// 10 bytes: clockIdentity, portNumber.
    mutating func readPortIdentity() -> PortIdentity {
        let clock = ClockIdentity(rawValue: readUInt64())
        return PortIdentity(clockIdentity: clock, portNumber: readUInt16())
    }
}

extension Array where Element == UInt8 {
    mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        var bigEndian = value.bigEndian
        Swift.withUnsafeBytes(of: &bigEndian) { append(contentsOf: $0) }
    }

    mutating func appendTimestamp(_ timestamp: PTPTimestamp) {
        appendBigEndian(UInt16(truncatingIfNeeded: timestamp.seconds >> 32))
        appendBigEndian(UInt32(truncatingIfNeeded: timestamp.seconds))
        appendBigEndian(timestamp.nanoseconds)
    }

    mutating func appendPortIdentity(_ identity: PortIdentity) {
        appendBigEndian(identity.clockIdentity.rawValue)
        appendBigEndian(identity.portNumber)
    }
}
