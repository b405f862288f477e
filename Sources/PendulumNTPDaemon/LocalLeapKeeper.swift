import Logging
import PendulumDiscipline
import PendulumIO
import PendulumNTP
import PendulumNTPServer
import PendulumSync
import Synchronization
import PendulumTime

/// A server with no sources serving its own clock (`local-stratum`) still owes its clients the
/// published leap seconds: from the leap-seconds.list it announces them on the day (LI 1 or 2)
/// and carries them out on its own clock at midnight, as a stratum-1 server would from its
/// reference clock, and gives the clock TAI − UTC. Without a valid list it announces nothing.
final class LocalLeapKeeper: Sendable {
    private let table: LeapSecondTable?
    private let clock: any SteerableClock
    private let logger: Logger
    private let applied = Mutex(LeapIndicator.none)
    /// TAI − UTC last given to the clock: the kernel's CLOCK_TAI follows it.
    private let appliedTAIOffset = Mutex<Int?>(nil)

    init(table: LeapSecondTable?, clock: any SteerableClock, logger: Logger) {
        self.table = table
        self.clock = clock
        self.logger = logger
    }

    /// Carries the day's leap second (or its withdrawal) to the clock once, when it changes,
    /// and returns what a local-stratum server announces now: the same decision for both.
    func tick(stratum: UInt8) -> ServerClockState {
        let now = clock.now().seconds
        let leap = LeapSecondPolicy.decide(announced: .none, at: now, table: table)
        apply(leap)
        if let offset = table?.taiOffset(at: now) { apply(taiOffset: offset) }
        return Self.servedState(stratum: stratum, leap: leap)
    }

    /// What a local-stratum server announces before the first tick.
    func servedState(stratum: UInt8) -> ServerClockState {
        Self.servedState(stratum: stratum, leap: LeapSecondPolicy.decide(announced: .none, at: clock.now().seconds, table: table))
    }

    private static func servedState(stratum: UInt8, leap: LeapIndicator) -> ServerClockState {
        var state = ServerClockState.local(stratum: stratum)
        state.leap = leap
        return state
    }

    private func apply(taiOffset offset: Int) {
        let changed = appliedTAIOffset.withLock { applied in
            defer { applied = offset }
            return applied != offset
        }
        guard changed else { return }
        do {
            try clock.setTAIOffset(offset)
            logger.info("TAI − UTC is \(offset) s (leap-seconds.list)")
        } catch {
            logger.error("clock refused the TAI offset: \(error)")
        }
    }

    private func apply(_ leap: LeapIndicator) {
        let changed = applied.withLock { applied in
            defer { applied = leap }
            return applied != leap
        }
        guard changed else { return }
        do {
            try clock.setLeap(leap)
            logger.notice(leap == .none ? "no leap second at the end of today" : "leap second at the end of today (leap-seconds.list): \(leap)")
        } catch {
            logger.error("clock refused the leap second: \(error)")
        }
    }
}
