import PendulumTime

/// What the shell must do to the clock, in order.
public enum ClockAction: Sendable, Hashable {
    /// Step the clock by this interval (positive: forward), e.g. clock_adjtime ADJ_SETOFFSET.
    case step(NTPDuration)
    /// Set the clock's frequency correction to this value in s/s (positive: faster; ×1e6 for
    /// ppm, ×65536e6 for the kernel's ADJ_FREQUENCY units). It replaces the previous value.
    case setFrequency(Double)
    /// Announce (or cancel) a leap second at the end of the current UTC day.
    case setLeap(LeapIndicator)
    /// Tell the clock TAI − UTC in seconds (the kernel's ADJ_TAI, which CLOCK_TAI adds), from a
    /// leap-seconds.list. The kernel moves it by itself when it carries out a leap second.
    case setTAIOffset(Int)
}
