#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import PendulumTime

/// A leap second at a UTC midnight: the one a smear spreads out.
public struct ScheduledLeap: Sendable, Hashable {
    /// The midnight (Unix seconds) at whose end the last minute has 61 seconds (insertion) or 59.
    public var midnight: Int64
    public var isInsertion: Bool

    public init(midnight: Int64, isInsertion: Bool) {
        self.midnight = midnight
        self.isInsertion = isInsertion
    }
}

/// Serving a leap second spread over a day instead of as a 61-second minute (Google's public
/// smear, chrony's `smoothtime`): clients of a smearing server never see the leap, their clocks
/// only run 11.6 ppm slow (or fast) for a day. The server's own clock keeps UTC and carries out
/// the leap as usual; only the timestamps it serves are smeared.
///
/// The window is centred on the leap, like Google's noon-to-noon smear: served time is at
/// most half a second from UTC. Before the window and after it served time is UTC.
public struct LeapSmear: Sendable, Hashable {
    public enum Shape: String, Sendable, Hashable, CaseIterable {
        /// The same rate all through the window: Google's smear (a 24-hour window is
        /// 86,401 SI seconds of 1.0000116 smeared seconds each).
        case linear
        /// Starts and ends at the true rate, fastest at the leap: no sudden change of
        /// frequency for a client to follow (ntpd's `leapsmearinterval` shape).
        case cosine
    }

    public var shape: Shape
    /// How long the smear runs, in seconds of UTC, half before the leap's midnight and half
    /// after.
    public var windowSeconds: Int64

    public static let defaultWindowSeconds: Int64 = 86_400
    /// Bounds of `windowSeconds`: a minute at least (a steeper smear is a step by another
    /// name), a day at most (a leap is only known for certain on its last day).
    public static let windowRange: ClosedRange<Int64> = 60...86_400

    public init(shape: Shape, windowSeconds: Int64 = LeapSmear.defaultWindowSeconds) {
        self.shape = shape
        self.windowSeconds = min(max(windowSeconds, Self.windowRange.lowerBound), Self.windowRange.upperBound)
    }

    /// The time to serve for a reading of a UTC clock that carries out `leap`.
    ///
    /// - Parameter isRepeat: the reading is from the inserted second itself, which repeats the
    ///   day's last second on the clock: a reading alone cannot tell the two apart.
    public func served(_ reading: UnixTime, isRepeat: Bool, leap: ScheduledLeap) -> UnixTime {
        let correction = self.correction(reading, isRepeat: isRepeat, leap: leap)
        return correction == .zero ? reading : reading + correction
    }

    /// How far served time is from the reading (negative: behind).
    public func correction(_ reading: UnixTime, isRepeat: Bool, leap: ScheduledLeap) -> NTPDuration {
        let halfWindow = windowSeconds / 2
        let start = UnixTime(seconds: leap.midnight - halfWindow)
        // The clock has already been through the leap: its readings lag (insertion) or lead
        // (deletion) the seconds that have really elapsed.
        let passed = reading >= UnixTime(seconds: leap.midnight) || (leap.isInsertion && isRepeat)
        let direction: Int64 = leap.isInsertion ? 1 : -1
        // Seconds that have elapsed since the window opened, and how many it lasts in all.
        var elapsed = reading - start
        if passed { elapsed += .seconds(direction) }
        let length = NTPDuration.seconds(windowSeconds + direction)
        guard elapsed > .zero, elapsed < length else { return .zero }
        // The progress through the window only sets a correction below a second: a Double
        // carries it to well under a nanosecond; the timestamps themselves stay integers.
        let progress = elapsed.seconds / length.seconds
        let fraction = shape == .linear ? progress : (1 - cos(Double.pi * progress)) / 2
        // Smeared time is elapsed time less the fraction of the leap spread so far; the
        // reading is elapsed time less the whole leap once it has happened.
        let smearedSoFar = NTPDuration(approximateSeconds: Double(direction) * fraction)
        return (passed ? .seconds(direction) : .zero) - smearedSoFar
    }
}
