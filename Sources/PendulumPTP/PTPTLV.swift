/// A TLV after a message body (§14.1): type, length, value. Unknown types are kept opaque so
/// a receiver can skip them and a relay could forward them.
public struct PTPTLV: Sendable, Hashable {
    public var type: UInt16
    public var value: [UInt8]

    public init(type: UInt16, value: [UInt8]) {
        self.type = type
        self.value = value
    }

    /// Bytes on the wire: 4 for type and length plus the value.
    public var encodedByteCount: Int { 4 + value.count }

    // tlvType values (Table 52).
    public static let management: UInt16 = 0x0001
    public static let managementErrorStatus: UInt16 = 0x0002
    public static let organizationExtension: UInt16 = 0x0003
    public static let requestUnicastTransmission: UInt16 = 0x0004
    public static let grantUnicastTransmission: UInt16 = 0x0005
    public static let cancelUnicastTransmission: UInt16 = 0x0006
    public static let acknowledgeCancelUnicastTransmission: UInt16 = 0x0007
    public static let pathTrace: UInt16 = 0x0008
    public static let alternateTimeOffsetIndicator: UInt16 = 0x0009
}
