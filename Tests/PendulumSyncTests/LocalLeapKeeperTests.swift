import Logging
import PendulumDiscipline
import PendulumIO
import PendulumNTP
@testable import PendulumNTPDaemon
import PendulumNTPServer
import PendulumTime
import Testing

/// A local-stratum server with no sources takes the leap second and TAI − UTC from the list
/// alone: it announces the leap on the day, and tells its clock both, each once.
@Suite struct LocalLeapKeeperTests {
    /// Stands still at a chosen moment and records what it is told.
    final class RecordingClock: SteerableClock, @unchecked Sendable {
        let moment: UnixTime
        var leaps: [LeapIndicator] = []
        var taiOffsets: [Int] = []

        init(at moment: UnixTime) { self.moment = moment }

        var kind: ClockKind { .system }
        func now() -> UnixTime { moment }
        func time(atSystemTime systemTime: UnixTime) -> UnixTime { systemTime }
        var maximumFrequencyCorrection: Double { 500e-6 }
        func setFrequency(_ correction: Double) throws(ClockError) {}
        func step(by offset: NTPDuration) throws(ClockError) {}
        func setLeap(_ leap: LeapIndicator) throws(ClockError) { leaps.append(leap) }
        var isRepeatingLeapSecond: Bool { false }
        func setTAIOffset(_ seconds: Int) throws(ClockError) { taiOffsets.append(seconds) }
        func setSynchronized(_ synchronized: Bool, maximumError: NTPDuration, estimatedError: NTPDuration) throws(ClockError) {}
        var status: ClockStatus { OverlayClock().status }
    }

    /// 2015-07-01 (36 s) and 2017-01-01 (37 s), in NTP seconds; expires in 2058.
    static let list = "#$ 3676924800\n#@ 5000000000\n3644697600 36\n3692217600 37\n"

    @Test func onTheDayItAnnouncesTheLeapAndSetsTheClockOnce() throws {
        let table = try LeapSecondsList(parsing: Self.list).table
        // 2016-12-31 12:00 UTC.
        let clock = RecordingClock(at: UnixTime(seconds: 1_483_185_600))
        let keeper = LocalLeapKeeper(table: table, clock: clock, logger: Logger(label: "test"))
        let served = keeper.tick(stratum: 1)
        _ = keeper.tick(stratum: 1)
        #expect(served.leap == .insertSecond)
        #expect(clock.leaps == [.insertSecond])
        #expect(clock.taiOffsets == [36])
    }

    @Test func onAnOrdinaryDayItAnnouncesNothingButStillSetsTAI() throws {
        let table = try LeapSecondsList(parsing: Self.list).table
        // 2018-03-01.
        let clock = RecordingClock(at: UnixTime(seconds: 1_519_862_400))
        let keeper = LocalLeapKeeper(table: table, clock: clock, logger: Logger(label: "test"))
        #expect(keeper.tick(stratum: 1).leap == .none)
        #expect(clock.leaps.isEmpty, "nothing to withdraw: the clock was never told of a leap")
        #expect(clock.taiOffsets == [37])
    }
}
