import PendulumTime

/// Identifies a source to the discipline; the daemon chooses the values (e.g. an index into
/// its own table) and maps them back.
public struct SourceID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var rawValue: Int
    public init(_ rawValue: Int) { self.rawValue = rawValue }
    public static func < (lhs: SourceID, rhs: SourceID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { "source \(rawValue)" }
}

/// What the shell must do to the clock, in order.
public enum ClockAction: Sendable, Hashable {
    /// Step the clock by this interval (positive: forward), e.g. clock_adjtime ADJ_SETOFFSET.
    case step(NTPDuration)
    /// Set the clock's frequency correction to this value in s/s (positive: faster; ×1e6 for
    /// ppm, ×65536e6 for the kernel's ADJ_FREQUENCY units). It replaces the previous value.
    case setFrequency(Double)
    /// Announce (or cancel) a leap second at the end of the current UTC day.
    case setLeap(LeapStatus)
}

/// Things worth reporting that need no action from the shell.
public enum DisciplineEvent: Sendable, Hashable {
    case sampleRejectedForDelay(SourceID)
    case sampleRejectedAsOutlier(SourceID)
    /// A source's samples jumped consistently by this many seconds; its filter restarted.
    case sourceJumped(SourceID, Double)
    /// Most sources jumped together: someone moved the local clock (by minus this offset).
    case clockMeddlingDetected(Double)
    case falsetickers([SourceID])
    /// The offset exceeds the panic threshold; the clock was left alone.
    case panicThresholdExceeded(Double)
    /// The wanted frequency correction was clamped to the configured maximum.
    case frequencyLimited(Double)
    case synchronized
    case lostSynchronization
}

/// The result of feeding the discipline one event.
public struct DisciplineUpdate: Sendable, Hashable {
    public var actions: [ClockAction] = []
    public var events: [DisciplineEvent] = []
    /// When to poll the source that produced this sample next.
    public var nextPollInterval: NTPDuration = .zero
    public init() {}
}

/// What a server built on this clock advertises, and what `pendulum status` shows.
public struct SystemState: Sendable, Hashable {
    public var synchronized = false
    public var stratum: UInt8 = 16
    public var referenceID: UInt32 = 0
    public var leap: LeapStatus = .unsynchronized
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
