/// clockQuality (§7.6.2.5): what a clock claims about itself in Announce.
public struct ClockQuality: Sendable, Hashable {
    /// 6 = locked to a primary reference, 7 = in holdover, 248 = default, 255 = slave-only.
    public var clockClass: UInt8
    /// 0x20 = 25 ns … 0x31 = > 10 s, 0xFE = unknown.
    public var clockAccuracy: UInt8
    public var offsetScaledLogVariance: UInt16

    public init(clockClass: UInt8 = 248, clockAccuracy: UInt8 = 0xFE, offsetScaledLogVariance: UInt16 = 0xFFFF) {
        self.clockClass = clockClass
        self.clockAccuracy = clockAccuracy
        self.offsetScaledLogVariance = offsetScaledLogVariance
    }

    /// The accuracy the clock announces, in seconds (0x20 = 25 ns … 0x30 = 10 s). nil for
    /// "more than 10 s", "unknown" (0xFE, the usual value) and reserved codes: nothing can be
    /// counted on.
    public var accuracySeconds: Double? {
        guard (0x20...0x30).contains(clockAccuracy) else { return nil }
        return Self.accuracyByCode[Int(clockAccuracy - 0x20)]
    }

    private static let accuracyByCode: [Double] = [
        25e-9, 100e-9, 250e-9, 1e-6, 2.5e-6, 10e-6, 25e-6, 100e-6, 250e-6,
        1e-3, 2.5e-3, 10e-3, 25e-3, 100e-3, 250e-3, 1, 10,
    ]
}

/// timeSource (§7.6.2.8, Table 6).
public enum TimeSource {
    public static let atomicClock: UInt8 = 0x10
    public static let gnss: UInt8 = 0x20
    public static let terrestrialRadio: UInt8 = 0x30
    public static let serialTimeCode: UInt8 = 0x39
    public static let ptp: UInt8 = 0x40
    public static let ntp: UInt8 = 0x50
    public static let handSet: UInt8 = 0x60
    public static let other: UInt8 = 0x90
    public static let internalOscillator: UInt8 = 0xA0
}
