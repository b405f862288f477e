import PendulumIO
import PendulumTime

/// The time as the agreeing servers gave it, with how wrong it can be and the evidence.
///
/// If the agreeing servers are right within what they say of themselves, true time lay within
/// `errorBound` of `time` when the reading was made; `now()` carries that forward on this
/// machine's clock, widening the bound by `assumedDriftPPM` for every second since.
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
    let madeAtMonotonic: Duration

    /// How fast this machine's clock may run wrong between the reading and `now()`: 15 ppm,
    /// RFC 5905's PHI, generous for a crystal oscillator at room temperature.
    public static let assumedDriftPPM: Int64 = 15

    /// The time now, carried forward from the reading on this machine's clock.
    public func now() -> (time: UnixTime, earliest: UnixTime, latest: UnixTime) {
        let system = WallClock.now()
        let elapsed = MonotonicClock.now() - madeAtMonotonic
        let elapsedNanoseconds = elapsed < .zero ? 0 : elapsed.components.seconds.multipliedFullWidth(by: 1_000_000_000).low
            &+ UInt64(elapsed.components.attoseconds / 1_000_000_000)
        // 15 ppm of the elapsed time, rounded up; saturated, as no reading lives for centuries.
        let growth = NTPDuration.nanoseconds(Int64(min(elapsedNanoseconds / 1_000_000 &* UInt64(Self.assumedDriftPPM) &+ 1, UInt64(Int64.max / 4))))
        let bound = errorBound.saturatingAdd(growth)
        let time = system + offsetFromSystemClock
        return (time, time - bound, time + bound)
    }
}
