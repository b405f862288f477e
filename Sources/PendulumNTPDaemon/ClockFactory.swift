import Foundation
import PendulumDaemonConfig
import PendulumIO
import PendulumTime

/// Makes the clock `[clock]` asks for, or picks one: the system clock when this process may
/// steer it, an overlay clock otherwise (so an unprivileged start still does something useful
/// and never fails half-way on the first step).
enum ClockFactory {
    /// CAP_SYS_TIME from linux/capability.h: a stable kernel ABI number.
    private static let systemTimeCapability = 25

    static func make(_ section: ClockSection) throws(DaemonError) -> (clock: any SteerableClock, why: String) {
        let privileged = hasSystemTimeCapability()
        switch section.kind {
        case .system?:
            guard privileged else {
                throw .startup("[clock] kind = \"system\" needs CAP_SYS_TIME to steer the system clock: run as root, grant the capability (the systemd unit does), or use kind = \"overlay\"")
            }
            return (KernelClock.system(), "system clock (configured)")
        case .overlay?:
            return (overlay(section), "overlay clock (configured; the system clock is not touched)")
        case nil:
            return privileged
                ? (KernelClock.system(), "system clock (this process has CAP_SYS_TIME)")
                : (overlay(section), "overlay clock (no CAP_SYS_TIME, so the system clock is left alone; its offset from the system clock is in `pendulum status`)")
        }
    }

    private static func overlay(_ section: ClockSection) -> OverlayClock {
        OverlayClock(
            initialOffset: NTPDuration(approximateSeconds: section.initialOffsetSeconds),
            intrinsicFrequencyError: section.initialFrequencyPPM * 1e-6
        )
    }

    /// Reads the effective capability set from /proc: no libcap dependency, and reading
    /// changes nothing (probing with a clock_adjtime write would).
    static func hasSystemTimeCapability() -> Bool {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return false }
        for line in status.split(separator: "\n") where line.hasPrefix("CapEff:") {
            let hex = line.dropFirst("CapEff:".count).trimmingCharacters(in: .whitespaces)
            guard let mask = UInt64(hex, radix: 16) else { return false }
            return mask & (1 << UInt64(systemTimeCapability)) != 0
        }
        return false
    }
}
