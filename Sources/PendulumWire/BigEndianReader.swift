/// A big-endian cursor over received bytes, for the NTP, NTS and PTP codecs. Callers check
/// `remaining` before each read; the reads themselves never step past `end` (they would trap,
/// which the callers' checks and the fuzz targets rule out).
public struct BigEndianReader {
    @usableFromInline let bytes: [UInt8]
    /// Moved only by the reads (inlinable, so they need it visible to the inliner).
    @usableFromInline var offset: Int
    /// The index of the next byte to read.
    @inlinable public var position: Int { offset }
    /// Where reading stops: the end of the bytes, or of a message inside them.
    public let end: Int

    @inlinable public init(_ bytes: [UInt8], end: Int? = nil) {
        self.bytes = bytes
        offset = bytes.startIndex
        self.end = Swift.min(end ?? bytes.endIndex, bytes.endIndex)
    }

    @inlinable public var remaining: Int { end - position }

    @inlinable public mutating func readByte() -> UInt8 {
        defer { offset += 1 }
        return bytes[position]
    }

    @inlinable public mutating func readUInt16() -> UInt16 {
        UInt16(readByte()) << 8 | UInt16(readByte())
    }

    @inlinable public mutating func readUInt32() -> UInt32 {
        UInt32(readUInt16()) << 16 | UInt32(readUInt16())
    }

    @inlinable public mutating func readUInt64() -> UInt64 {
        UInt64(readUInt32()) << 32 | UInt64(readUInt32())
    }

    @inlinable public mutating func readBytes(_ count: Int) -> [UInt8] {
        defer { offset += count }
        return Array(bytes[position..<position + count])
    }

    /// The big-endian 16 bits `offset` bytes ahead, without moving.
    @inlinable public func peekUInt16(at offset: Int) -> UInt16 {
        UInt16(bytes[position + offset]) << 8 | UInt16(bytes[position + offset + 1])
    }
}
