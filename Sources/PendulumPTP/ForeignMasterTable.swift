/// The foreign-master records of one port (§9.3.2.4–§9.3.2.5): who has been sending Announce,
/// and whether they have done so often enough lately to be considered.
public struct ForeignMasterTable: Sendable {
    /// FOREIGN_MASTER_THRESHOLD: Announce messages needed inside the window.
    public static let threshold = 2
    /// FOREIGN_MASTER_TIME_WINDOW in announce intervals.
    public static let windowIntervals: Int64 = 4

    public struct Record: Sendable, Hashable {
        public var sender: PortIdentity
        public var latest: PTPAnnounceBody
        public var latestFlags: PTPFlags
        public var latestSequenceId: UInt16
        /// Arrival instants inside the window, oldest first.
        public var arrivals: [PTPInstant]
        /// The sender's logAnnounceInterval, for sizing its window.
        public var logAnnounceInterval: Int8
    }

    public private(set) var records: [PortIdentity: Record] = [:]
    /// Bounds memory when someone floods us with Announces from made-up identities.
    public var capacity = 16

    public init() {}

    /// Records an Announce. Returns false when it was not recorded (table full).
    @discardableResult
    public mutating func record(_ announce: PTPAnnounceBody, header: PTPHeader, at now: PTPInstant,
                                localLogAnnounceInterval: Int8) -> Bool {
        let sender = header.sourcePortIdentity
        // A master announcing more slowly than we are configured for would otherwise never
        // qualify: size its window by the slower of the two intervals.
        let log = Self.effectiveLogInterval(local: localLogAnnounceInterval, announced: header.logMessageInterval)
        if var existing = records[sender] {
            existing.latest = announce
            existing.latestFlags = header.flags
            existing.latestSequenceId = header.sequenceId
            existing.arrivals.append(now)
            existing.logAnnounceInterval = log
            records[sender] = existing
        } else {
            guard records.count < capacity else { return false }
            records[sender] = Record(sender: sender, latest: announce, latestFlags: header.flags,
                                     latestSequenceId: header.sequenceId, arrivals: [now], logAnnounceInterval: log)
        }
        prune(at: now)
        return true
    }

    /// Drops arrivals older than the window, and records with none left.
    public mutating func prune(at now: PTPInstant) {
        for (sender, var record) in records {
            let window = logIntervalDuration(record.logAnnounceInterval, multipliedBy: Self.windowIntervals)
            record.arrivals.removeAll { now - $0 > window }
            records[sender] = record.arrivals.isEmpty ? nil : record
        }
    }

    /// Records with at least FOREIGN_MASTER_THRESHOLD Announces inside the window.
    public func qualified(at now: PTPInstant) -> [Record] {
        records.values.filter { record in
            let window = logIntervalDuration(record.logAnnounceInterval, multipliedBy: Self.windowIntervals)
            return record.arrivals.filter { now - $0 <= window }.count >= Self.threshold
        }
    }

    public mutating func removeAll() { records.removeAll() }

    /// The larger of our interval and the sender's, ignoring 0x7F ("none") and absurd values.
    static func effectiveLogInterval(local: Int8, announced: Int8) -> Int8 {
        guard announced != 0x7F, (-7...12).contains(announced) else { return local }
        return Swift.max(local, announced)
    }
}
