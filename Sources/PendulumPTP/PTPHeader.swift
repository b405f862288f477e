import PendulumTime

/// The 34-byte common header (§13.3) minus messageType and messageLength, which follow from
/// the body and TLVs a message actually has.
public struct PTPHeader: Sendable, Hashable {
    /// 12-bit sdoId: majorSdoId (high 4 bits) and minorSdoId (low 8 bits). 0 for the default
    /// profiles; 0x100 for gPTP (802.1AS).
    public var sdoId: UInt16
    /// versionPTP, 2 for IEEE 1588-2008 and -2019.
    public var version: UInt8
    /// minorVersionPTP, 1 for IEEE 1588-2019.
    public var minorVersion: UInt8
    public var domainNumber: UInt8
    public var flags: PTPFlags
    public var correction: PTPTimeInterval
    public var messageTypeSpecific: UInt32
    public var sourcePortIdentity: PortIdentity
    public var sequenceId: UInt16
    public var controlField: UInt8
    public var logMessageInterval: Int8

    public static let length = 34

    public init(sdoId: UInt16 = 0, version: UInt8 = 2, minorVersion: UInt8 = 1, domainNumber: UInt8 = 0,
                flags: PTPFlags = [], correction: PTPTimeInterval = .zero, messageTypeSpecific: UInt32 = 0,
                sourcePortIdentity: PortIdentity, sequenceId: UInt16, controlField: UInt8,
                logMessageInterval: Int8) {
        self.sdoId = sdoId
        self.version = version
        self.minorVersion = minorVersion
        self.domainNumber = domainNumber
        self.flags = flags
        self.correction = correction
        self.messageTypeSpecific = messageTypeSpecific
        self.sourcePortIdentity = sourcePortIdentity
        self.sequenceId = sequenceId
        self.controlField = controlField
        self.logMessageInterval = logMessageInterval
    }

    public var majorSdoId: UInt8 { UInt8(truncatingIfNeeded: sdoId >> 8) & 0x0F }
    public var minorSdoId: UInt8 { UInt8(truncatingIfNeeded: sdoId) }
}
