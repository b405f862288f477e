/// `[clock]`: which clock the daemon keeps right.
public struct ClockSection: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// The system clock, through clock_adjtime: needs CAP_SYS_TIME.
        case system
        /// A software clock on top of the system clock, steered exactly like it and never
        /// touching it: for unprivileged use, tests and demos.
        case overlay
    }

    /// nil: not configured; the daemon picks the system clock when it may steer it, else overlay.
    public var kind: Kind?
    /// Overlay only: start this far ahead of the system clock (to start it wrong on purpose).
    public var initialOffsetSeconds: Double = 0
    /// Overlay only: run this many ppm fast on its own, as a bad oscillator would.
    public var initialFrequencyPPM: Double = 0

    /// Where the frequency correction is kept across restarts (chrony's driftfile): written
    /// hourly while synchronised and at stop, read at start. nil: not kept.
    public var driftFile: String?

    /// Where the published leap seconds come from (chrony's leapsectz, ntpd's leapfile).
    public enum LeapSeconds: Sendable, Hashable {
        /// tzdata's /usr/share/zoneinfo/leap-seconds.list when it exists, else none.
        case tzdata
        /// None: the sources' announcements decide, on the last day of June or December.
        case none
        /// This file, which must exist and be valid.
        case file(String)
    }

    public var leapSeconds = LeapSeconds.tzdata

    public init() {}
}
