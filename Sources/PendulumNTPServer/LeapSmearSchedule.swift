import PendulumTime

/// Which leap second smearing servers are spreading: the one the clock will carry out at the
/// end of today, kept after it has happened until every smear window has closed (the clock
/// announces nothing the day after, but the second half of the smear is still running).
public struct LeapSmearSchedule: Sendable, Hashable {
    public private(set) var leap: ScheduledLeap?

    /// How long after its midnight a leap is kept: half the widest window and a margin.
    public static let keptAfterMidnight: Int64 = LeapSmear.windowRange.upperBound / 2 + 2

    public enum Change: Sendable, Hashable {
        case scheduled(ScheduledLeap)
        /// Withdrawn before its midnight: the clock will not carry it out after all.
        case withdrawn(ScheduledLeap)
        case finished(ScheduledLeap)
    }

    public init() {}

    /// Brings the schedule in line with what the clock announces.
    /// - Parameters:
    ///   - announced: the leap second the clock carries out at the end of the UTC day that
    ///     contains `now` (`.unsynchronized` says nothing new and changes nothing).
    ///   - recent: a leap second that happened in the last half day, from the published list:
    ///     how a daemon started after a leap's midnight learns of it.
    public mutating func observe(announced: LeapIndicator, at now: UnixTime, recent: ScheduledLeap? = nil) -> Change? {
        var finished: ScheduledLeap?
        if let current = leap, now.seconds >= current.midnight - 1 {
            // Running or past: an announcement now is the clock's decision not yet caught up
            // with the new day (the discipline reviews it a few seconds after midnight), not
            // a leap at the next midnight: leap seconds end months, never two days running.
            guard now.seconds >= current.midnight + Self.keptAfterMidnight else { return nil }
            leap = nil
            finished = current
        }
        if announced == .insertSecond || announced == .deleteSecond {
            let next = ScheduledLeap(midnight: CivilDate.midnight(after: now.seconds), isInsertion: announced == .insertSecond)
            guard next != leap else { return nil }
            leap = next
            return .scheduled(next)
        }
        guard let current = leap else {
            guard let recent, recent != finished, now.seconds >= recent.midnight, now.seconds < recent.midnight + Self.keptAfterMidnight else {
                return finished.map { .finished($0) }
            }
            leap = recent
            return .scheduled(recent)
        }
        if announced == .none {
            leap = nil
            return .withdrawn(current)
        }
        return nil
    }
}
