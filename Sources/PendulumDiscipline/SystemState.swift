import PendulumTime

/// What a server built on this clock advertises, and what `pendulum status` shows.
public struct SystemState: Sendable, Hashable {
    public var synchronized = false
    public var stratum: UInt8 = 16
    public var referenceID: UInt32 = 0
    public var leap: LeapIndicator = .unsynchronized
    /// Seconds.
    public var rootDelay: Double = 0
    public var rootDispersion: Double = 0
    /// Last combined offset (server minus local) and its std-dev, s.
    public var offset: Double = 0
    public var uncertainty: Double = 0
    /// Frequency correction currently applied, s/s.
    public var frequencyCorrection: Double = 0
    public var survivors: [SourceID] = []
    public var primary: SourceID?
    public init() {}
}
