extension NTPHeader {
    /// The same 48 bytes as `write(to:)`, stored into a caller's buffer (at least 48 bytes)
    /// instead of appended to an array: the serving path writes replies in place.
    public func write(into buffer: UnsafeMutableRawBufferPointer) {
        buffer[0] = leap.rawValue << 6 | (version & 0x7) << 3 | mode.rawValue
        buffer[1] = stratum
        buffer[2] = UInt8(bitPattern: poll)
        buffer[3] = UInt8(bitPattern: precision)
        buffer.storeBytes(of: rootDelay.rawValue.bigEndian, toByteOffset: 4, as: UInt32.self)
        buffer.storeBytes(of: rootDispersion.rawValue.bigEndian, toByteOffset: 8, as: UInt32.self)
        buffer.storeBytes(of: referenceID.rawValue.bigEndian, toByteOffset: 12, as: UInt32.self)
        buffer.storeBytes(of: referenceTimestamp.rawValue.bigEndian, toByteOffset: 16, as: UInt64.self)
        buffer.storeBytes(of: originTimestamp.rawValue.bigEndian, toByteOffset: 24, as: UInt64.self)
        buffer.storeBytes(of: receiveTimestamp.rawValue.bigEndian, toByteOffset: 32, as: UInt64.self)
        buffer.storeBytes(of: transmitTimestamp.rawValue.bigEndian, toByteOffset: 40, as: UInt64.self)
    }
}
