extension UnsafeRawBufferPointer {
    /// The big-endian 32-bit value at `offset`; the caller checked the four bytes exist.
    @inlinable public func bigEndianUInt32(at offset: Int) -> UInt32 {
        var value: UInt32 = 0
        for index in offset..<offset + 4 { value = value << 8 | UInt32(self[index]) }
        return value
    }

    /// The big-endian 64-bit value at `offset`; the caller checked the eight bytes exist.
    @inlinable public func bigEndianUInt64(at offset: Int) -> UInt64 {
        var value: UInt64 = 0
        for index in offset..<offset + 8 { value = value << 8 | UInt64(self[index]) }
        return value
    }
}

extension UnsafeMutableRawBufferPointer {
    /// Stores `value` big-endian at `offset`; the caller checked the two bytes exist.
    @inlinable public func storeBigEndian(_ value: UInt16, at offset: Int) {
        self[offset] = UInt8(truncatingIfNeeded: value >> 8)
        self[offset + 1] = UInt8(truncatingIfNeeded: value)
    }
}
