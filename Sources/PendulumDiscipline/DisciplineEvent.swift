/// Things worth reporting that need no action from the shell.
public enum DisciplineEvent: Sendable, Hashable {
    case sampleRejectedForDelay(SourceID)
    case sampleRejectedAsOutlier(SourceID)
    /// Taken within seconds of a leap second, when either side may already have moved by it.
    case sampleIgnoredAroundLeapSecond(SourceID)
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
