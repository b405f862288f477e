import PendulumIO
import PendulumTime

/// The time as the agreeing servers gave it, with how wrong it can be and the evidence.
///
/// If the agreeing servers are right within what they say of themselves, true time lay within
/// `errorBound` of `time` when the reading was made; `now()` carries that forward on this
/// machine's monotonic clock, widening the bound by `assumedDriftPPM` for every second since.
public struct SecureTimeReading: Sendable {
    /// True time minus this machine's CLOCK_REALTIME, when the reading was made.
    public var offsetFromSystemClock: NTPDuration
    public var errorBound: NTPDuration
    /// True time when the reading was made.
    public var time: UnixTime
    /// The servers whose answers agree and set the time.
    public var agreeing: [ServerMeasurement]
    /// Servers that answered but disagree with the majority: wrong, or attacked.
    public var falsetickers: [ServerMeasurement]
    public var failures: [ServerFailureReport]
    /// Whether every agreeing answer was NTS-authenticated.
    public var authenticated: Bool { agreeing.allSatisfy(\.authenticated) }
    /// CLOCK_MONOTONIC when `time` was true.
    let madeAtMonotonic: Duration

    /// How fast this machine's monotonic clock may run wrong between the reading and `now()`:
    /// 15 ppm, RFC 5905's PHI. A system daemon slewing hard (chrony up to 83,333 ppm while it
    /// removes a large offset) breaks that while it lasts: long-lived uses take fresh readings.
    public static let assumedDriftPPM: Int64 = 15

    /// The time now, carried forward from the reading on CLOCK_MONOTONIC, so a step of the
    /// system clock after the reading (by anyone) does not move it.
    public func now() -> (time: UnixTime, earliest: UnixTime, latest: UnixTime) {
        let (seconds, attoseconds) = max(MonotonicClock.now() - madeAtMonotonic, .zero).components
        let elapsed = NTPDuration(seconds: seconds, nanoseconds: attoseconds / 1_000_000_000)
        // assumedDriftPPM of the elapsed time, rounded up (NTPDuration saturates, never wraps).
        let bound = errorBound + NTPDuration(rawValue: elapsed.rawValue / 1_000_000 * Self.assumedDriftPPM + 1)
        let current = time + elapsed
        return (current, current - bound, current + bound)
    }
}
