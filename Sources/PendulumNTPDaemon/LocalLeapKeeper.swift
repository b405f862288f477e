import Logging
import PendulumDiscipline
import PendulumIO
import PendulumNTP
import PendulumNTPServer
import Synchronization

/// A server with no sources serving its own clock (`local-stratum`) still owes its clients the
/// published leap seconds: from the leap-seconds.list it announces them on the day (LI 1 or 2)
/// and carries them out on its own clock at midnight, as a stratum-1 server would from its
/// reference clock. Without a valid list it announces nothing.
final class LocalLeapKeeper: Sendable {
    private let table: LeapSecondTable?
    private let clock: any SteerableClock
    private let logger: Logger
    private let applied = Mutex(LeapStatus.none)

    init(table: LeapSecondTable?, clock: any SteerableClock, logger: Logger) {
        self.table = table
        self.clock = clock
        self.logger = logger
    }

    /// The leap second at the end of the local clock's current day, per the list alone.
    var current: LeapStatus {
        LeapSecondPolicy.decide(announced: .none, at: clock.now().seconds, table: table)
    }

    /// What a local-stratum server announces now.
    func servedState(stratum: UInt8) -> ServerClockState {
        var state = ServerClockState.local(stratum: stratum)
        state.leap = LeapIndicator(rawValue: current.rawValue) ?? .noWarning
        return state
    }

    /// Carries the day's leap second (or its withdrawal) to the clock once, when it changes.
    func applyToClock() {
        let leap = current
        let changed = applied.withLock { applied in
            defer { applied = leap }
            return applied != leap
        }
        guard changed else { return }
        do {
            try clock.setLeap(leap == .insertSecond ? .insertSecond : (leap == .deleteSecond ? .deleteSecond : .none))
            logger.notice(leap == .none ? "no leap second at the end of today" : "leap second at the end of today (leap-seconds.list): \(leap)")
        } catch {
            logger.error("clock refused the leap second: \(error)")
        }
    }
}
