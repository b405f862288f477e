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
}
