/// flagField (§13.3.2.8, Table 37), as the 16-bit value of bytes 6–7 of the header.
public struct PTPFlags: OptionSet, Sendable, Hashable {
    public var rawValue: UInt16

    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    // Byte 6 (high byte).
    public static let alternateMaster = PTPFlags(rawValue: 1 << 8)
    public static let twoStep = PTPFlags(rawValue: 1 << 9)
    public static let unicast = PTPFlags(rawValue: 1 << 10)
    public static let profileSpecific1 = PTPFlags(rawValue: 1 << 13)
    public static let profileSpecific2 = PTPFlags(rawValue: 1 << 14)
    // Byte 7 (low byte): the time properties carried by Announce.
    public static let leap61 = PTPFlags(rawValue: 1 << 0)
    public static let leap59 = PTPFlags(rawValue: 1 << 1)
    public static let currentUtcOffsetValid = PTPFlags(rawValue: 1 << 2)
    public static let ptpTimescale = PTPFlags(rawValue: 1 << 3)
    public static let timeTraceable = PTPFlags(rawValue: 1 << 4)
    public static let frequencyTraceable = PTPFlags(rawValue: 1 << 5)
    public static let synchronizationUncertain = PTPFlags(rawValue: 1 << 6)
}
