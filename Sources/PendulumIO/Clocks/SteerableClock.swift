import PendulumTime

/// The clocks a daemon can keep right.
public enum ClockKind: String, Sendable, Hashable, Codable {
    /// The Linux system clock, CLOCK_REALTIME, through clock_adjtime.
    case system
    /// A software clock layered on the system clock; steering it never touches the system.
    case overlay
    /// A PTP hardware clock (/dev/ptpN).
    case ptpHardware = "ptp-hardware"
}

/// What a clock reports about itself for status output.
public struct ClockStatus: Sendable, Hashable {
    public var kind: ClockKind
    /// The frequency correction in force, in parts per million.
    public var frequencyPPM: Double
    public var leap: LeapIndicator
    public var synchronized: Bool
    /// For an overlay clock: how far it is ahead of the system clock right now.
    public var offsetFromSystem: NTPDuration?
}

/// One interface for every clock the daemons steer (DESIGN.md, "Clocks"): read it, convert a
/// kernel packet timestamp onto it, and apply the discipline's decisions.
public protocol SteerableClock: AnyObject, Sendable {
    var kind: ClockKind { get }

    /// The clock's current time.
    func now() -> UnixTime

    /// This clock's reading at the instant the system clock read `systemTime`. Kernel packet
    /// timestamps are taken on the system clock; a daemon steering another clock maps them
    /// through this before using them as T1/T4.
    func time(atSystemTime systemTime: UnixTime) -> UnixTime

    /// The largest frequency correction `setFrequency` carries out, in s/s: what the
    /// discipline may use to slew an offset away.
    var maximumFrequencyCorrection: Double { get }

    /// Sets the frequency correction, in s/s (1e-6 is 1 ppm). It replaces the previous one.
    func setFrequency(_ correction: Double) throws(ClockError)

    /// Steps the clock by `offset` (positive: forward).
    func step(by offset: NTPDuration) throws(ClockError)

    /// Announces (or cancels) a leap second at the end of the current UTC day.
    func setLeap(_ leap: LeapIndicator) throws(ClockError)

    /// Whether the clock is in an inserted leap second now: it then reads the day's last
    /// second a second time, and a reading alone cannot say which of the two it is.
    var isRepeatingLeapSecond: Bool { get }

    /// Sets TAI − UTC in seconds, where the clock keeps one (the kernel's, for CLOCK_TAI).
    func setTAIOffset(_ seconds: Int) throws(ClockError)

    /// Tells the clock (and, for the system clock, every other program through the kernel)
    /// whether it is synchronised and how far off it may be.
    func setSynchronized(_ synchronized: Bool, maximumError: NTPDuration, estimatedError: NTPDuration) throws(ClockError)

    var status: ClockStatus { get }

    /// How fast this clock's difference to the system clock grows, s/s (see the extension).
    var rateAgainstSystemClock: Double { get }
}

/// A clock operation the kernel refused.
public struct ClockError: Error, Sendable, Hashable, CustomStringConvertible {
    public var operation: String
    public var code: Int32

    public init(_ operation: String, code: Int32) {
        self.operation = operation
        self.code = code
    }

    public var isPermissionDenied: Bool { code == 1 /* EPERM */ }

    public var description: String {
        if isPermissionDenied {
            return "\(operation): not permitted (steering a kernel clock needs CAP_SYS_TIME; "
                + "run as root, grant the capability, or use an overlay clock)"
        }
        return "\(operation): \(SystemCallError(operation, code: code).description.dropFirst(operation.count + 2))"
    }
}

extension SteerableClock {
    /// Overlay and PTP hardware clocks keep no TAI offset: nothing to do.
    public func setTAIOffset(_ seconds: Int) throws(ClockError) {}

    /// How fast this clock's difference to the system clock grows (s/s): 0 for the system
    /// clock itself. With `time(atSystemTime:)` it tells a program outside the daemon how to
    /// read this clock from CLOCK_REALTIME (the bounds segment publishes both).
    public var rateAgainstSystemClock: Double { 0 }
}
