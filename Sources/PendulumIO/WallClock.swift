import Glibc
import PendulumTime

/// Reads the system's CLOCK_REALTIME — the clock kernel packet timestamps are taken on.
public enum WallClock {
    public static func now() -> UnixTime {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return UnixTime(spec)
    }
}

/// Reads CLOCK_MONOTONIC, for timeouts and intervals that must not jump with the wall clock.
public enum MonotonicClock {
    public static func now() -> Duration {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return .seconds(spec.tv_sec) + .nanoseconds(spec.tv_nsec)
    }

    /// The same reading in nanoseconds, as shared-memory readers in other processes use it.
    public static func nanoseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }
}

/// Reads CLOCK_BOOTTIME: it runs with the system clock's frequency but is never stepped, not
/// even across a suspend, so the wall clock minus it changes only when someone steps the clock.
public enum BootClock {
    public static func nanoseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_BOOTTIME, &spec)
        return Int64(spec.tv_sec) &* 1_000_000_000 &+ Int64(spec.tv_nsec)
    }
}
