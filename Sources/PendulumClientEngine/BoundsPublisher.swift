import PendulumBoundedTime
import PendulumDiscipline
import PendulumIO
import PendulumTime

/// Writes a steered clock's error bound into the bounds segment, with how that clock relates
/// to CLOCK_REALTIME so that readers can compute its reading: what pendulum-ntpd's engine and
/// pendulum-ptpd publish alike.
package struct BoundsPublisher: Sendable {
    package let segment: BoundsSegment
    package let clock: any SteerableClock

    /// Published values hold this long without a new update: ten seconds, so a loaded machine
    /// does not void them, while a stopped daemon is noticed within seconds.
    package static let lifetimeNanoseconds: Int64 = 10_000_000_000

    package init(segment: BoundsSegment, clock: any SteerableClock) {
        self.segment = segment
        self.clock = clock
    }

    /// Publishes the bound `boundAt` gives for the clock's reading now; nothing while it gives
    /// none (before the first synchronisation) or one that says nothing.
    package func publish(_ boundAt: (UnixTime) -> ClockErrorBound?) {
        let monotonic = MonotonicClock.nanoseconds()
        let realtime = WallClock.now()
        let reading = clock.time(atSystemTime: realtime)
        guard let bound = boundAt(reading), bound.maximumError.isFinite, bound.maximumDrift.isFinite else { return }
        // A bound above 100 days or a drift above 4 s/s says nothing; both are clamped to fit.
        let boundNanoseconds = min(max((bound.maximumError * 1e9).rounded(.up), 0), 8.64e15)
        let driftPPB = min(max((bound.maximumDrift * 1e9).rounded(.up), 0), 4e9)
        segment.publish(ClockBounds(
            asOfRealtimeNanoseconds: realtime.seconds * 1_000_000_000 + Int64(realtime.nanoseconds),
            asOfMonotonicNanoseconds: monotonic,
            clockOffsetNanoseconds: (reading - realtime).nanoseconds, clockRate: clock.rateAgainstSystemClock,
            boundNanoseconds: Int64(boundNanoseconds), maximumDriftPPB: UInt32(driftPPB),
            status: bound.synchronized ? .synchronized : .freeRunning,
            voidAfterMonotonicNanoseconds: monotonic + Self.lifetimeNanoseconds
        ))
    }

    /// Stopped: a reader must not go on trusting the last values until they go stale.
    package func publishStopped() {
        segment.publish(ClockBounds(
            asOfRealtimeNanoseconds: 0, asOfMonotonicNanoseconds: 0, boundNanoseconds: 0, maximumDriftPPB: 0,
            status: .unknown, voidAfterMonotonicNanoseconds: 0))
    }
}
