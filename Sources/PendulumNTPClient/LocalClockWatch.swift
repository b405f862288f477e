import PendulumTime

/// Notices the steered clock being moved by someone else (`date -s`, another daemon, a resumed
/// VM restoring an old time), which the sources cannot tell apart from all of them moving: a
/// man in the middle shifting every answer looks, from the answers alone, exactly like someone
/// moving the local clock. CLOCK_BOOTTIME is never stepped, so the steered clock minus
/// boottime changes only by this daemon's own steps, by the frequency corrections in force (an
/// overlay clock runs at its own rate; the system clock's corrections move both alike) and by
/// leap seconds. Anything more was done to the clock, not to the sources.
///
/// The shell feeds it a reading of both about once a second and every step it makes; the
/// readings are its only input, so it is tested and simulated without a clock.
public struct LocalClockWatch: Sendable {
    /// The largest rate (s/s) the steered clock may run at against boottime on its own.
    public let maximumRate: Double
    /// Moves smaller than this are not reported: a reading's own delay, the loop's lateness.
    public let tolerance: Double
    private var last: (clock: NTPTimestamp, boottime: Int64)?
    private var ownSteps: Double = 0

    public init(maximumRate: Double, tolerance: Double = 0.05) {
        self.maximumRate = maximumRate
        self.tolerance = tolerance
    }

    /// This daemon stepped the clock by `amount` seconds since the last reading.
    public mutating func stepped(by amount: Double) {
        ownSteps += amount
    }

    /// A reading of the steered clock and of CLOCK_BOOTTIME (ns), taken together. Returns how
    /// far (s, positive: forward) the clock was moved since the last reading beyond what this
    /// daemon's steps and the clock's rate explain, or nil.
    public mutating func observe(clock: NTPTimestamp, boottimeNanoseconds: Int64) -> Double? {
        defer {
            last = (clock, boottimeNanoseconds)
            ownSteps = 0
        }
        guard let last, boottimeNanoseconds > last.boottime else { return nil }
        let elapsed = (Double(boottimeNanoseconds) - Double(last.boottime)) * 1e-9
        let unexplained = (clock - last.clock).seconds - elapsed - ownSteps
        return abs(unexplained) > tolerance + maximumRate * elapsed ? unexplained : nil
    }
}
