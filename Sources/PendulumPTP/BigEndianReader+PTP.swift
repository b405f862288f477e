import PendulumTime
import PendulumWire

extension BigEndianReader {
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
