#if canImport(Glibc)
    import Glibc
#endif
import PendulumTime

/// The time with a guarantee: `now()` gives the earliest and latest true time at this instant,
/// from the bounds pendulum-ntpd or pendulum-ptpd publishes (`[observability] bounds-path`).
/// As AWS ClockBound's clients do, a program waits out `latest` before it commits to an order,
/// or refuses to act on a time whose interval is too wide.
///
/// ```swift
/// let clock = try BoundedClock()                  // /run/pendulum/bounds
/// let now = try clock.now()
/// if now.synchronized && now.boundNanoseconds < 1_000_000 { ... }
/// ```
public struct BoundedClock: Sendable {
    public static let defaultPath = "/run/pendulum/bounds"
    private let segment: BoundsSegment

    public init(path: String = BoundedClock.defaultPath) throws(BoundedTimeError) {
        segment = try BoundsSegment.open(at: path)
    }

    /// The bounds at this instant.
    public func now() throws(BoundedTimeError) -> BoundedInstant {
        let bounds = try segment.read()
        // Read the two clocks as close together as possible: the monotonic one only sets how
        // much the bound has grown, so the order matters little.
        let monotonic = Self.nanoseconds(CLOCK_MONOTONIC)
        let realtime = Self.nanoseconds(CLOCK_REALTIME)
        return try bounds.interval(realtimeNanoseconds: realtime, monotonicNanoseconds: monotonic)
    }

    /// The values as published, for tools that show them.
    public func published() throws(BoundedTimeError) -> ClockBounds { try segment.read() }

    static func nanoseconds(_ clock: clockid_t) -> Int64 {
        var spec = timespec()
        clock_gettime(clock, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }
}
