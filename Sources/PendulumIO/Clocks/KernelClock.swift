import CPendulumShim
import Glibc
import PendulumTime

/// A clock the kernel keeps, steered through clock_adjtime: the system clock (CLOCK_REALTIME)
/// or a PTP hardware clock's dynamic clock id. Steering needs CAP_SYS_TIME; reading does not.
public final class KernelClock: SteerableClock {
    public let kind: ClockKind
    let clockID: Int32
    /// The open /dev/ptpN for a hardware clock, closed with this object.
    private let deviceDescriptor: Int32?

    /// The system clock. Creating it changes nothing; only the steering calls do.
    public static func system() -> KernelClock {
        KernelClock(kind: .system, clockID: CLOCK_REALTIME, deviceDescriptor: nil)
    }

    /// A PTP hardware clock, e.g. "/dev/ptp0".
    public static func ptpHardware(path: String) throws(ClockError) -> KernelClock {
        let descriptor = open(path, O_RDWR | O_CLOEXEC)
        guard descriptor >= 0 else { throw ClockError("open \(path)", code: errno) }
        return KernelClock(kind: .ptpHardware, clockID: pendulum_clock_id_for_fd(descriptor), deviceDescriptor: descriptor)
    }

    private init(kind: ClockKind, clockID: Int32, deviceDescriptor: Int32?) {
        self.kind = kind
        self.clockID = clockID
        self.deviceDescriptor = deviceDescriptor
    }

    deinit {
        if let deviceDescriptor { close(deviceDescriptor) }
    }

    public func now() -> UnixTime {
        var spec = timespec()
        clock_gettime(clockID, &spec)
        return UnixTime(spec)
    }

    public func time(atSystemTime systemTime: UnixTime) -> UnixTime {
        guard kind != .system else { return systemTime }
        // Bracket a hardware-clock reading between two system readings; the midpoint's error
        // is at most half the bracket, a few microseconds.
        let before = WallClock.now()
        let hardware = now()
        let after = WallClock.now()
        let systemMidpoint = before + (after - before).halved
        return systemTime + (hardware - systemMidpoint)
    }

    public func setFrequency(_ correction: Double) throws(ClockError) {
        guard correction.isFinite else { throw ClockError("clock_adjtime ADJ_FREQUENCY", code: EINVAL) }
        try check(pendulum_clock_set_frequency(clockID, correction * 1e6), "clock_adjtime ADJ_FREQUENCY")
    }

    public func step(by offset: NTPDuration) throws(ClockError) {
        let nanoseconds = offset.nanoseconds
        try check(pendulum_clock_step(clockID, nanoseconds / 1_000_000_000, nanoseconds % 1_000_000_000), "clock_adjtime ADJ_SETOFFSET")
    }

    public func setLeap(_ leap: LeapAnnouncement) throws(ClockError) {
        let synchronized = kernelState().map { $0.status & 0x0040 == 0 } ?? false  // STA_UNSYNC
        try check(pendulum_clock_set_status(clockID, Int32(leap.rawValue), synchronized ? 1 : 0), "clock_adjtime ADJ_STATUS")
    }

    public func setSynchronized(_ synchronized: Bool, maximumError: NTPDuration, estimatedError: NTPDuration) throws(ClockError) {
        let leap = kernelState().map { $0.status & 0x0010 != 0 ? 1 : ($0.status & 0x0020 != 0 ? 2 : 0) } ?? 0  // STA_INS, STA_DEL
        try check(pendulum_clock_set_status(clockID, Int32(leap), synchronized ? 1 : 0), "clock_adjtime ADJ_STATUS")
        let clampMicroseconds = { (value: NTPDuration) -> Int in Int(min(max(value.nanoseconds / 1000, 0), 16_000_000)) }
        try check(
            pendulum_clock_set_error_bounds(clockID, clampMicroseconds(maximumError), clampMicroseconds(estimatedError)),
            "clock_adjtime ADJ_MAXERROR"
        )
    }

    /// The kernel's view: frequency correction (ppm) and status bits. Reading needs no privilege.
    public func kernelState() -> (frequencyPPM: Double, status: Int32)? {
        var ppm = 0.0
        var status: Int32 = 0
        var state: Int32 = 0
        guard pendulum_clock_read_state(clockID, &ppm, &status, &state) == 0 else { return nil }
        return (ppm, status)
    }

    public var status: ClockStatus {
        let state = kernelState()
        let bits = state?.status ?? 0x0040
        let leap: LeapAnnouncement = bits & 0x0010 != 0 ? .insertSecond : (bits & 0x0020 != 0 ? .deleteSecond : .none)
        return ClockStatus(kind: kind, frequencyPPM: state?.frequencyPPM ?? 0, leap: leap, synchronized: bits & 0x0040 == 0, offsetFromSystem: nil)
    }

    /// Whether this process may steer kernel clocks: CAP_SYS_TIME (bit 25) in its effective
    /// capability set, read from /proc without touching any clock.
    public static var processMaySteerClocks: Bool {
        guard let file = fopen("/proc/self/status", "r") else { return false }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 512)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard text.hasPrefix("CapEff:") else { continue }
            let hex = text.dropFirst("CapEff:".count).trimmingCharacters(in: " \t\n")
            guard let mask = UInt64(hex, radix: 16) else { return false }
            return mask & (1 << 25) != 0
        }
        return false
    }

    private func check(_ result: Int32, _ operation: String) throws(ClockError) {
        guard result == 0 else { throw ClockError(operation, code: -result) }
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var result = self
        while let first = result.first, set.contains(first) { result = result.dropFirst() }
        while let last = result.last, set.contains(last) { result = result.dropLast() }
        return String(result)
    }
}
