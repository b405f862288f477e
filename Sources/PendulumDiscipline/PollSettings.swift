import PendulumTime

/// How often one source may be asked, in chrony's terms: `minpoll`/`maxpoll` (log2 seconds)
/// bound the adaptive interval, and `iburst` asks quickly a few times when the source starts
/// so the clock is set in seconds rather than after several full intervals.
public struct PollSettings: Sendable, Hashable {
    /// The log2 intervals a user may ask for: 1/16 s (fast LAN or lab use) to 36 hours.
    public static let supportedLog2: ClosedRange<Int> = -4...17

    /// Shortest and longest log2 interval of the adaptive poll.
    public var limits: ClosedRange<Int>
    /// Start with a burst of quick polls (chrony's and ntpd's `iburst`).
    public var initialBurst: Bool
    /// At every poll of a reachable source, a short burst of quick requests instead of one
    /// (chrony's and ntpd's `burst`): more samples per interval from a server that must be
    /// polled rarely.
    public var burstEachPoll: Bool

    public init(limits: ClosedRange<Int>, initialBurst: Bool = true, burstEachPoll: Bool = false) {
        self.limits = limits
        self.initialBurst = initialBurst
        self.burstEachPoll = burstEachPoll
    }

    /// `2^log2` seconds exactly, for any supported log2 (negative ones included).
    public static func interval(log2: Int) -> NTPDuration {
        let clamped = min(max(log2, supportedLog2.lowerBound), supportedLog2.upperBound)
        return NTPDuration(rawValue: Int64(1) << Int64(32 + clamped))
    }

    /// `2^log2` seconds as a Double, for the filter's arithmetic.
    public static func seconds(log2: Int) -> Double {
        let clamped = min(max(log2, supportedLog2.lowerBound), supportedLog2.upperBound)
        return clamped >= 0 ? Double(1 << clamped) : 1 / Double(1 << -clamped)
    }
}
