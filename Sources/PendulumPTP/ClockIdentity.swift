/// An 8-byte clockIdentity (§7.5.2.2). Ordering is that of the bytes read as an unsigned
/// big-endian number, which is the order the BMCA compares identities in.
public struct ClockIdentity: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var rawValue: UInt64

    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    /// EUI-64 from a 48-bit MAC address: FF FE inserted between the OUI and the NIC part.
    public init(mac: [UInt8]) {
        precondition(mac.count == 6, "a MAC address has 6 bytes")
        let bytes: [UInt8] = [mac[0], mac[1], mac[2], 0xFF, 0xFE, mac[3], mac[4], mac[5]]
        rawValue = bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// All ones: the wildcard in targetPortIdentity.
    public static let all = ClockIdentity(rawValue: .max)

    public var bytes: [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: rawValue >> (56 - 8 * $0)) } }

    /// linuxptp's notation, e.g. "001122.fffe.334455".
    public var description: String {
        let hex = bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }
        return hex[0..<3].joined() + "." + hex[3..<5].joined() + "." + hex[5..<8].joined()
    }

    public static func < (lhs: ClockIdentity, rhs: ClockIdentity) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// clockIdentity plus portNumber (§7.5.2): names one PTP port.
public struct PortIdentity: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var clockIdentity: ClockIdentity
    public var portNumber: UInt16

    public init(clockIdentity: ClockIdentity, portNumber: UInt16) {
        self.clockIdentity = clockIdentity
        self.portNumber = portNumber
    }

    /// All ones: addresses every port (targetPortIdentity wildcard).
    public static let all = PortIdentity(clockIdentity: .all, portNumber: 0xFFFF)

    public var description: String { "\(clockIdentity)-\(portNumber)" }

    public static func < (lhs: PortIdentity, rhs: PortIdentity) -> Bool {
        (lhs.clockIdentity.rawValue, lhs.portNumber) < (rhs.clockIdentity.rawValue, rhs.portNumber)
    }
}
