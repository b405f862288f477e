import PendulumDaemonConfig
import PendulumIO
import PendulumTime

/// Makes the clock `[clock]` asks for, or picks one: the system clock when this process may
/// steer it, an overlay clock otherwise (so an unprivileged start still does something useful
/// and never fails half-way on the first step).
enum ClockFactory {
    static func make(_ section: ClockSection) throws(DaemonError) -> (clock: any SteerableClock, why: String) {
        let privileged = KernelClock.processMaySteerClocks
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
}
