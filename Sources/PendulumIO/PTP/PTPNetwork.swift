/// The PTP transports of IEEE 1588 Annexes C (UDP/IPv4), D (UDP/IPv6) and E (Ethernet), with
/// the destinations every PTP node listens on.
public enum PTPNetwork: String, Sendable, Hashable, Codable, CaseIterable {
    case ipv4
    case ipv6
    case ethernet

    /// UDP ports: event messages (timestamped) and general messages.
    public static let eventPort: UInt16 = 319
    public static let generalPort: UInt16 = 320

    /// All messages except peer delay go to this group.
    public var primaryGroup: String {
        switch self {
        case .ipv4: "224.0.1.129"
        case .ipv6: "ff0e::181"
        case .ethernet: "01:1b:19:00:00:00"
        }
    }

    /// Pdelay_Req, Pdelay_Resp and Pdelay_Resp_Follow_Up go to this link-local group, which
    /// bridges do not forward.
    public var peerDelayGroup: String {
        switch self {
        case .ipv4: "224.0.0.107"
        case .ipv6: "ff02::6b"
        case .ethernet: "01:80:c2:00:00:0e"
        }
    }

    static let primaryMAC: [UInt8] = [0x01, 0x1B, 0x19, 0x00, 0x00, 0x00]
    static let peerDelayMAC: [UInt8] = [0x01, 0x80, 0xC2, 0x00, 0x00, 0x0E]
}
