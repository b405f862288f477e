import PendulumTime

/// The leap seconds published so far and until when the list is known to be complete: the
/// content of IERS's leap-seconds.list (shipped by tzdata as
/// /usr/share/zoneinfo/leap-seconds.list).
///
/// A list that has not expired answers for certain whether a leap second ends today, whatever
/// the sources say; an expired one still gives the TAI offset of the past but knows nothing of
/// leap seconds announced after it was published.
public struct LeapSecondTable: Sendable, Hashable {
    /// From `start` (a UTC midnight, Unix seconds) TAI − UTC is `taiOffset` seconds.
    public struct Entry: Sendable, Hashable {
        public var start: Int64
        public var taiOffset: Int

        public init(start: Int64, taiOffset: Int) {
            self.start = start
            self.taiOffset = taiOffset
        }
    }

    /// Ascending by `start`, each at a UTC midnight on the first of a month, each offset one
    /// second away from the one before.
    public let entries: [Entry]
    /// When the list was last updated (Unix seconds).
    public let lastUpdate: Int64
    /// After this instant (Unix seconds) the list says nothing about new leap seconds.
    public let expiry: Int64

    /// Checks what the parser cannot see line by line: order, midnights, steps of one second.
    public init(entries: [Entry], lastUpdate: Int64, expiry: Int64) throws(LeapSecondsListError) {
        guard !entries.isEmpty else { throw .noEntries }
        for (index, entry) in entries.enumerated() {
            guard let date = CivilDate(unixSeconds: entry.start), entry.start % 86_400 == 0, date.day == 1 else {
                throw .notFirstOfMonth(entry.start)
            }
            guard (0...1000).contains(entry.taiOffset) else { throw .offsetOutOfRange(entry.taiOffset) }
            if index > 0 {
                let previous = entries[index - 1]
                guard entry.start > previous.start else { throw .notAscending(entry.start) }
                guard abs(entry.taiOffset - previous.taiOffset) == 1 else { throw .notOneSecondStep(entry.start) }
            }
        }
        guard expiry > lastUpdate else { throw .expiresBeforeUpdate }
        self.entries = entries
        self.lastUpdate = lastUpdate
        self.expiry = expiry
    }

    public func isExpired(at unixSeconds: Int64) -> Bool { unixSeconds >= expiry }

    /// TAI − UTC at this instant, or nil before the first entry (1972).
    public func taiOffset(at unixSeconds: Int64) -> Int? {
        entries.last { $0.start <= unixSeconds }?.taiOffset
    }

    /// The leap second at the end of the UTC day containing this instant, if the list has one.
    public func leap(atEndOfDayContaining unixSeconds: Int64) -> LeapIndicator {
        let nextMidnight = CivilDate.midnight(after: unixSeconds)
        guard let index = entries.firstIndex(where: { $0.start == nextMidnight }), index > 0 else { return .none }
        return entries[index].taiOffset > entries[index - 1].taiOffset ? .insertSecond : .deleteSecond
    }
}
