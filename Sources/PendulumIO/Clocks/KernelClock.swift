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

    /// The system clock slews through the tick length as well as ADJ_FREQUENCY, so it can go
    /// as fast as chrony's default `maxslewrate` (83,333 ppm); ADJ_FREQUENCY alone stops at
    /// 500 ppm, which is all a PTP hardware clock is asked for.
    public var maximumFrequencyCorrection: Double { kind == .system ? Self.maximumSystemSlewRate : 500e-6 }

    /// chrony's default `maxslewrate`: fast enough to slew away 0.1 s in a few seconds, slow
    /// enough that a program timing intervals with the wall clock sees at most an 8 % error.
    public static let maximumSystemSlewRate = 83_333e-6

    public func setFrequency(_ correction: Double) throws(ClockError) {
        guard correction.isFinite else { throw ClockError("clock_adjtime ADJ_FREQUENCY", code: EINVAL) }
        guard kind == .system else {
            return try check(pendulum_clock_set_frequency(clockID, correction * 1e6), "clock_adjtime ADJ_FREQUENCY")
        }
        // Always through the tick as well: a correction within ±500 ppm also puts back the
        // nominal tick a faster slew before it had changed.
        let wanted = min(max(correction, -maximumFrequencyCorrection), maximumFrequencyCorrection)
        var applied = 0.0
        try check(pendulum_clock_set_tick_and_frequency(clockID, wanted * 1e6, &applied), "clock_adjtime ADJ_TICK|ADJ_FREQUENCY")
    }

    /// What an earlier time daemon (ntpd, a crashed pendulum-ntpd, adjtimex by hand) left
    /// running in the kernel, switched off before this one steers: a kernel PLL still slewing
    /// an ADJ_OFFSET would fight every correction made here. Returns a line for the log when
    /// there was something to switch off, and the frequency the kernel was running at (the
    /// best guess at the oscillator's error when there is no drift file).
    public func releaseKernelDiscipline() throws(ClockError) -> (found: String?, frequency: Double) {
        var hadPLL: Int32 = 0
        var pendingMicroseconds = 0
        var oldTick = 0
        let before = kernelState()
        try check(pendulum_clock_release_kernel_discipline(clockID, &hadPLL, &pendingMicroseconds, &oldTick), "clock_adjtime ADJ_STATUS")
        if hadPLL != 0 && pendingMicroseconds != 0 {
            // The kernel hands the PLL's offset to the clock a second at a time, and the chunk
            // for the current second is already in the tick length: it still runs after the
            // PLL is off. Measuring before that second is over put the start-up step 0.9 ms
            // wrong in the VM test; so wait for the next second's update, once, at start.
            usleep(1_050_000)
        }
        var found: [String] = []
        if hadPLL != 0 {
            found.append("the kernel PLL was on with \(pendingMicroseconds) µs still to slew")
        }
        let nominalTick = 1_000_000 / max(1, sysconf(Int32(_SC_CLK_TCK)))
        if kind == .system, oldTick != nominalTick {
            found.append("the tick was \(oldTick) µs instead of \(nominalTick)")
        }
        let frequency = (before?.frequencyPPM ?? 0) * 1e-6
        return (found.isEmpty ? nil : found.joined(separator: " and ") + ": switched off", frequency)
    }

    public func step(by offset: NTPDuration) throws(ClockError) {
        let nanoseconds = offset.nanoseconds
        try check(pendulum_clock_step(clockID, nanoseconds / 1_000_000_000, nanoseconds % 1_000_000_000), "clock_adjtime ADJ_SETOFFSET")
    }

    public func setLeap(_ leap: LeapIndicator) throws(ClockError) {
        let synchronized = kernelState().map { $0.status & 0x0040 == 0 } ?? false  // STA_UNSYNC
        try check(pendulum_clock_set_status(clockID, Int32(leap.leapSecond.rawValue), synchronized ? 1 : 0), "clock_adjtime ADJ_STATUS")
    }

    public func setTAIOffset(_ seconds: Int) throws(ClockError) {
        // Only CLOCK_REALTIME's timekeeping has a TAI offset; a PHC has its own time scale.
        guard kind == .system else { return }
        try check(pendulum_clock_set_tai_offset(clockID, Int32(clamping: seconds)), "clock_adjtime ADJ_TAI")
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

    /// The kernel's TIME_OOP state, which lasts exactly the inserted second.
    public var isRepeatingLeapSecond: Bool {
        var ppm = 0.0
        var status: Int32 = 0
        var state: Int32 = 0
        return pendulum_clock_read_state(clockID, &ppm, &status, &state) == 0 && state == 3  // TIME_OOP
    }

    public var status: ClockStatus {
        let state = kernelState()
        let bits = state?.status ?? 0x0040
        let leap: LeapIndicator = bits & 0x0010 != 0 ? .insertSecond : (bits & 0x0020 != 0 ? .deleteSecond : .none)
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
