import PendulumTime

/// A reading of a `DisciplinedClock`: the time, and how wrong it can be.
public struct DisciplinedTime: Sendable, Hashable {
    /// The program's disciplined time.
    public var time: UnixTime
    /// True time lies within this of `time`, if the agreeing servers are right within what they
    /// say of themselves; nil before the first synchronisation.
    public var errorBound: NTPDuration?
    /// Steered by agreeing servers now. After they are lost the clock runs on (holdover) and
    /// `errorBound` keeps growing.
    public var synchronized: Bool
    /// The disciplined time minus this machine's CLOCK_REALTIME.
    public var offsetFromSystemClock: NTPDuration

    /// The earliest and latest true time can be; nil before the first synchronisation.
    public var interval: (earliest: UnixTime, latest: UnixTime)? {
        errorBound.map { (time - $0, time + $0) }
    }
}
