import NIOConcurrencyHelpers
import PendulumIO
import PendulumNTPServer
import PendulumNTS
import PendulumTime
import Synchronization

/// What every serving thread reads for each request (the clock state and the cookie keyset)
/// and what they report back (their counters). Writers are rare: rotation, discipline updates.
package final class ServingState: Sendable {
    private let shared: NIOLockedValueBox<(clock: ServerClockState, keyset: CookieKeyset?, smear: LeapSmearSchedule)>
    /// Counts updates of `shared`. A serving thread keeps its own copy of the clock state and
    /// keyset and compares this number once per batch, without a lock: it takes the lock only
    /// after an update, so a key rotation never makes a worker wait, and workers never contend
    /// with each other for the lock.
    private let updates = Atomic<Int>(0)
    private let countersByLoop: NIOLockedValueBox<[Int: ServerCounters]>
    /// The clock whose time is served: the one the daemon disciplines. Kernel receive
    /// timestamps (system clock) are mapped onto it for T2; T3 is read from it.
    package let servedClock: any SteerableClock

    package init(clock: ServerClockState, keyset: CookieKeyset?, servedClock: any SteerableClock = KernelClock.system()) {
        shared = NIOLockedValueBox((clock, keyset, LeapSmearSchedule()))
        countersByLoop = NIOLockedValueBox([:])
        self.servedClock = servedClock
    }

    package var snapshot: (clock: ServerClockState, keyset: CookieKeyset?) { shared.withLockedValue { ($0.clock, $0.keyset) } }

    /// What a serving worker copies: the snapshot and the leap second smearing listeners spread.
    var servingSnapshot: (clock: ServerClockState, keyset: CookieKeyset?, smearedLeap: ScheduledLeap?) {
        shared.withLockedValue { ($0.clock, $0.keyset, $0.smear.leap) }
    }

    package var keyset: CookieKeyset? { shared.withLockedValue { $0.keyset } }

    package func update(keyset: CookieKeyset) {
        shared.withLockedValue { $0.keyset = keyset }
        updates.add(1, ordering: .releasing)
    }

    /// The served clock state, read at `now`; the leap second it announces for today is also
    /// the one smearing listeners spread (`recentLeap`: one the published list says has just
    /// happened). Returns how the smeared leap changed, for the log.
    package func update(clock: ServerClockState, at now: UnixTime, recentLeap: ScheduledLeap? = nil) -> LeapSmearSchedule.Change? {
        let change = shared.withLockedValue { shared in
            let change = shared.smear.observe(announced: clock.isSynchronized ? clock.leap : .unsynchronized, at: now, recent: recentLeap)
            shared.clock = clock
            // The discipline reviews its leap decision a few seconds after the leap's midnight;
            // until then it still says "insert" or "delete", which clients must not hear on
            // the new day.
            if let leap = shared.smear.leap, now >= UnixTime(seconds: leap.midnight), clock.leap == .insertSecond || clock.leap == .deleteSecond {
                shared.clock.leap = .none
            }
            return change
        }
        updates.add(1, ordering: .releasing)
        return change
    }

    /// How many updates there have been: a worker's copy taken after reading `n` here is at
    /// least as new as update `n`.
    var updateCount: Int { updates.load(ordering: .acquiring) }

    func publish(_ counters: ServerCounters, loop: Int) { countersByLoop.withLockedValue { $0[loop] = counters } }

    /// The counters of one serving loop (one listen address, all its workers), for status.
    package func counters(forLoop index: Int) -> ServerCounters {
        let keys = UDPServeLoop.counterKeys(ofLoop: index)
        return countersByLoop.withLockedValue { published in
            published.filter { keys.contains($0.key) }.values.reduce(ServerCounters(), +)
        }
    }

    /// All serving threads' counters added up.
    package var counters: ServerCounters {
        countersByLoop.withLockedValue { $0.values.reduce(ServerCounters(), +) }
    }
}
