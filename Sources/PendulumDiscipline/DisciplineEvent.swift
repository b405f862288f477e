/// Things worth reporting that need no action from the shell.
public enum DisciplineEvent: Sendable, Hashable {
    case sampleRejectedForDelay(SourceID)
    case sampleRejectedAsOutlier(SourceID)
    /// Taken within seconds of a leap second, when either side may already have moved by it.
    case sampleIgnoredAroundLeapSecond(SourceID)
    /// A source's samples jumped consistently by this many seconds; its filter restarted.
    case sourceJumped(SourceID, Double)
    /// Most sources' offsets jumped together by this much while the local clock was not seen
    /// to move: the new offset is judged like any other (the panic threshold holds).
    case sourcesJumpedTogether(Double)
    /// The local clock was moved by this much (s, positive: forward) by someone else.
    case localClockMoved(Double)
    case falsetickers([SourceID])
    /// The offset the selected `sources` agree on exceeds the panic threshold; the clock was
    /// left alone.
    case panicThresholdExceeded(Double, sources: [SourceID])
    /// The wanted frequency correction was clamped to the configured maximum.
    case frequencyLimited(Double)
    case synchronized
    case lostSynchronization
}
