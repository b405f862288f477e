import PendulumIO
@testable import PendulumNTPDaemon
import PendulumNTPServer
import PendulumTime
import Synchronization
import Testing

/// A smearing worker's timestamps through an overlay clock that inserts a leap second: T3
/// read now and T2 mapped from a packet's earlier kernel timestamp both land on one smooth
/// timescale, although the clock reads the last second of the day twice.
@Suite struct ServedTimeTests {
    final class VirtualSystemClock: Sendable {
        private let current: Mutex<UnixTime>
        init(_ start: UnixTime) { current = Mutex(start) }
        func read() -> UnixTime { current.withLock { $0 } }
        func advance(_ interval: NTPDuration) { current.withLock { $0 = $0 + interval } }
    }

    static let midnight: Int64 = 1_814_400_000
    static let leap = ScheduledLeap(midnight: midnight, isInsertion: true)
    static let smear = LeapSmear(shape: .linear, windowSeconds: 60)
    /// Served seconds per SI second inside a 60-second window around an inserted second.
    static let rate = 1 - 1 / 61.0

    func servedTime(startingBeforeMidnight seconds: Int64) throws -> (ServedTime, VirtualSystemClock) {
        let system = VirtualSystemClock(UnixTime(seconds: Self.midnight - seconds))
        let clock = OverlayClock(systemClock: system.read)
        try clock.setLeap(.insertSecond)
        return (ServedTime(clock: clock, smear: Self.smear, leap: Self.leap), system)
    }

    @Test func transmitTimesRunSmoothlyThroughTheInsertedSecond() throws {
        let (served, system) = try servedTime(startingBeforeMidnight: 3)
        var previous = served.now()
        for _ in 0..<120 {
            system.advance(.milliseconds(50))
            let current = served.now()
            #expect(abs((current - previous).seconds - 0.05 * Self.rate) < 1e-8, "at \(current)")
            previous = current
        }
    }

    @Test func aReceiveTimeFromJustBeforeTheLeapStaysBeforeIt() throws {
        let (served, system) = try servedTime(startingBeforeMidnight: 1)
        system.advance(.milliseconds(990))
        let packetTime = system.read()
        // The packet is handled 220 ms later, in the repeated second.
        system.advance(.milliseconds(220))
        #expect(served.clock.isRepeatingLeapSecond)
        let receive = served.time(atSystemTime: packetTime)
        let transmit = served.now()
        #expect(abs((transmit - receive).seconds - 0.22 * Self.rate) < 1e-8)
    }

    @Test func aReceiveTimeFromTheRepeatedSecondIsKnownAfterItEnded() throws {
        let (served, system) = try servedTime(startingBeforeMidnight: 1)
        system.advance(.milliseconds(1950))
        let packetTime = system.read()
        system.advance(.milliseconds(100))
        #expect(!served.clock.isRepeatingLeapSecond)
        let receive = served.time(atSystemTime: packetTime)
        let transmit = served.now()
        #expect(abs((transmit - receive).seconds - 0.1 * Self.rate) < 1e-8)
    }

    @Test func withoutASmearTheClockIsServedAsItReads() throws {
        let system = VirtualSystemClock(UnixTime(seconds: Self.midnight - 1))
        let clock = OverlayClock(systemClock: system.read)
        try clock.setLeap(.insertSecond)
        let served = ServedTime(clock: clock, smear: nil, leap: Self.leap)
        system.advance(.milliseconds(1500))
        #expect(served.now() == UnixTime(seconds: Self.midnight) - .milliseconds(500))
    }
}

/// What the serving state hands the workers around a leap second's midnight.
@Suite struct ServingStateLeapTests {
    static let midnight: Int64 = 1_814_400_000

    @Test func aDecisionNotYetReviewedAfterMidnightIsNotAnnounced() {
        let state = ServingState(clock: .unsynchronized(), keyset: nil, servedClock: OverlayClock())
        var clock = ServerClockState.local(stratum: 1)
        clock.leap = .insertSecond
        #expect(state.update(clock: clock, at: UnixTime(seconds: Self.midnight - 100)) == .scheduled(ScheduledLeap(midnight: Self.midnight, isInsertion: true)))
        #expect(state.snapshot.clock.leap == .insertSecond)
        // In the inserted second itself (the clock reads 23:59:59 again) it is still today's.
        #expect(state.update(clock: clock, at: UnixTime(seconds: Self.midnight - 1) + .milliseconds(500)) == nil)
        #expect(state.snapshot.clock.leap == .insertSecond)
        // Two seconds into the new day the discipline has not reviewed it yet: not announced,
        // and no leap scheduled for the next midnight.
        #expect(state.update(clock: clock, at: UnixTime(seconds: Self.midnight + 2)) == nil)
        #expect(state.snapshot.clock.leap == .none)
        #expect(state.servingSnapshot.smearedLeap == ScheduledLeap(midnight: Self.midnight, isInsertion: true))
        clock.leap = .none
        #expect(state.update(clock: clock, at: UnixTime(seconds: Self.midnight + 4)) == nil)
        #expect(state.update(clock: clock, at: UnixTime(seconds: Self.midnight + 43_202)) == .finished(ScheduledLeap(midnight: Self.midnight, isInsertion: true)))
    }
}
