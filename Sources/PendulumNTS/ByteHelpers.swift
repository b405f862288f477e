extension Array where Element == UInt8 {
    mutating func appendNetworkOrder(_ value: UInt16) {
        append(UInt8(truncatingIfNeeded: value >> 8))
        append(UInt8(truncatingIfNeeded: value))
    }

    mutating func appendNetworkOrder(_ value: UInt32) {
        appendNetworkOrder(UInt16(truncatingIfNeeded: value >> 16))
        appendNetworkOrder(UInt16(truncatingIfNeeded: value))
    }

    mutating func appendNetworkOrder(_ value: UInt64) {
        appendNetworkOrder(UInt32(truncatingIfNeeded: value >> 32))
        appendNetworkOrder(UInt32(truncatingIfNeeded: value))
    }

    /// Big-endian u16 at `offset`; the caller has checked that two bytes are there.
    func networkOrderUInt16(at offset: Int) -> UInt16 {
        UInt16(self[offset]) << 8 | UInt16(self[offset + 1])
    }

    func networkOrderUInt32(at offset: Int) -> UInt32 {
        UInt32(networkOrderUInt16(at: offset)) << 16 | UInt32(networkOrderUInt16(at: offset + 2))
    }

    func networkOrderUInt64(at offset: Int) -> UInt64 {
        UInt64(networkOrderUInt32(at: offset)) << 32 | UInt64(networkOrderUInt32(at: offset + 4))
    }
}
