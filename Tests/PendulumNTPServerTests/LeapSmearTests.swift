import PendulumNTPServer
import PendulumTime
import Testing

/// The smeared time a server hands out around a leap second, followed in SI time through the
/// clock's own reading of it (which repeats or skips the day's last second).
@Suite struct LeapSmearTests {
    /// 2027-06-30 24:00 UTC: a midnight a leap could end.
    static let midnight: Int64 = 1_814_400_000

    /// The UTC clock's reading `elapsed` SI seconds after `start`, and whether it is in the
    /// inserted second.
    static func reading(start: UnixTime, elapsed: NTPDuration, leap: ScheduledLeap) -> (UnixTime, Bool) {
        let continuous = start + elapsed
        let leapInstant = UnixTime(seconds: leap.midnight)
        if leap.isInsertion {
            guard continuous >= leapInstant else { return (continuous, false) }
            return (continuous - .seconds(1), continuous < leapInstant + .seconds(1))
        }
        return (continuous >= leapInstant - .seconds(1) ? continuous + .seconds(1) : continuous, false)
    }

    /// Served time through the whole window and beyond, every `step`: returns each served
    /// time against the SI seconds elapsed.
    static func trace(_ smear: LeapSmear, leap: ScheduledLeap, step: NTPDuration) -> [(elapsed: NTPDuration, reading: UnixTime, served: UnixTime)] {
        let start = UnixTime(seconds: leap.midnight - smear.windowSeconds / 2 - 10)
        var result: [(NTPDuration, UnixTime, UnixTime)] = []
        var elapsed = NTPDuration.zero
        let end = NTPDuration.seconds(smear.windowSeconds + 20)
        while elapsed <= end {
            let (reading, isRepeat) = reading(start: start, elapsed: elapsed, leap: leap)
            result.append((elapsed, reading, smear.served(reading, isRepeat: isRepeat, leap: leap)))
            elapsed += step
        }
        return result
    }

    @Test(arguments: [true, false])
    func aLinearSmearRunsAtOneRateAndNeverJumps(insertion: Bool) {
        let leap = ScheduledLeap(midnight: Self.midnight, isInsertion: insertion)
        let smear = LeapSmear(shape: .linear)
        let step = NTPDuration.milliseconds(250)
        let trace = Self.trace(smear, leap: leap, step: step)
        // Inside the window every step of SI time is a step of served time 1/86,401 shorter
        // (insertion) or 1/86,399 longer (deletion); nothing anywhere moves back or jumps.
        let rate = insertion ? 1 - 1 / 86_401.0 : 1 + 1 / 86_399.0
        var inside = 0
        for (earlier, later) in zip(trace, trace.dropFirst()) {
            let advance = (later.served - earlier.served).seconds
            #expect(advance > 0.2499 && advance < 0.2501, "at \(earlier.reading)")
            let windowStart = UnixTime(seconds: Self.midnight - 43_200)
            let windowEnd = UnixTime(seconds: Self.midnight + 43_200)
            if earlier.reading > windowStart + .seconds(1) && later.reading < windowEnd - .seconds(1) {
                inside += 1
                #expect(abs(advance - 0.25 * rate) < 2e-9, "at \(earlier.reading)")
            }
        }
        #expect(inside > 300_000)
        // Outside the window served time is the reading; at the leap it is half a second off.
        #expect(trace.first.map { $0.served == $0.reading } == true)
        #expect(trace.last.map { $0.served == $0.reading } == true)
        let atLeap = trace.first { $0.elapsed == .seconds(43_210) }
        let expected = UnixTime(seconds: Self.midnight) + .milliseconds(insertion ? -500 : 500)
        #expect(atLeap.map { abs(($0.served - expected).seconds) < 1e-5 } == true)
    }

    @Test func aCosineSmearStartsAndEndsAtTheTrueRate() {
        let leap = ScheduledLeap(midnight: Self.midnight, isInsertion: true)
        let smear = LeapSmear(shape: .cosine)
        let trace = Self.trace(smear, leap: leap, step: .seconds(1))
        var slowest = 1.0
        for (earlier, later) in zip(trace, trace.dropFirst()) {
            let advance = (later.served - earlier.served).seconds
            #expect(advance > 0.99 && advance <= 1.0 + 1e-9, "at \(earlier.reading)")
            slowest = min(slowest, advance)
        }
        // Fastest at the leap: π/2 times the linear smear's rate.
        #expect(abs((1 - slowest) - Double.pi / 2 / 86_401) < 1e-8)
        let nearStart = trace[11].served - trace[10].served
        #expect(abs(nearStart.seconds - 1) < 1e-9)
        #expect(trace.last.map { $0.served == $0.reading } == true)
    }

    @Test func theWindowIsClampedToAMinuteAndADay() {
        #expect(LeapSmear(shape: .linear, windowSeconds: 1).windowSeconds == 60)
        #expect(LeapSmear(shape: .linear, windowSeconds: 1_000_000).windowSeconds == 86_400)
        let short = LeapSmear(shape: .linear, windowSeconds: 120)
        let leap = ScheduledLeap(midnight: Self.midnight, isInsertion: true)
        let trace = Self.trace(short, leap: leap, step: .milliseconds(100))
        for (earlier, later) in zip(trace, trace.dropFirst()) {
            #expect((later.served - earlier.served) > .milliseconds(99), "at \(earlier.reading)")
        }
    }

    @Test func farFromAnyLeapTheReadingIsServedAsItIs() {
        let leap = ScheduledLeap(midnight: Self.midnight, isInsertion: true)
        let smear = LeapSmear(shape: .cosine)
        for reading in [UnixTime(seconds: 0), UnixTime(seconds: Self.midnight - 43_200), UnixTime(seconds: Self.midnight + 43_200), .distantFuture, .distantPast] {
            #expect(smear.served(reading, isRepeat: false, leap: leap) == reading)
        }
    }
}

@Suite struct LeapSmearScheduleTests {
    static let midnight: Int64 = 1_814_400_000
    static let leap = ScheduledLeap(midnight: midnight, isInsertion: true)

    @Test func followsTheAnnouncementAndKeepsTheLeapUntilTheWindowHasClosed() {
        var schedule = LeapSmearSchedule()
        #expect(schedule.observe(announced: .none, at: UnixTime(seconds: Self.midnight - 86_000)) == nil)
        #expect(schedule.observe(announced: .insertSecond, at: UnixTime(seconds: Self.midnight - 80_000)) == .scheduled(Self.leap))
        #expect(schedule.observe(announced: .insertSecond, at: UnixTime(seconds: Self.midnight - 1)) == nil)
        // Lost sources say nothing new; the day after announces nothing, and the smear runs on.
        #expect(schedule.observe(announced: .unsynchronized, at: UnixTime(seconds: Self.midnight - 100)) == nil)
        #expect(schedule.observe(announced: .none, at: UnixTime(seconds: Self.midnight)) == nil)
        #expect(schedule.observe(announced: .none, at: UnixTime(seconds: Self.midnight + 43_000)) == nil)
        #expect(schedule.leap == Self.leap)
        #expect(schedule.observe(announced: .none, at: UnixTime(seconds: Self.midnight + 43_202)) == .finished(Self.leap))
        #expect(schedule.leap == nil)
    }

    @Test func anAnnouncementLingeringAfterMidnightIsNotANewLeap() {
        // The discipline reviews its decision a few seconds after midnight: until then the
        // clock still announces the leap, which must not move the smear to the next midnight.
        var schedule = LeapSmearSchedule()
        _ = schedule.observe(announced: .insertSecond, at: UnixTime(seconds: Self.midnight - 10))
        #expect(schedule.observe(announced: .insertSecond, at: UnixTime(seconds: Self.midnight + 1)) == nil)
        #expect(schedule.observe(announced: .none, at: UnixTime(seconds: Self.midnight + 5)) == nil)
        #expect(schedule.leap == Self.leap)
    }

    @Test func aWithdrawnLeapIsDropped() {
        var schedule = LeapSmearSchedule()
        _ = schedule.observe(announced: .deleteSecond, at: UnixTime(seconds: Self.midnight - 50_000))
        #expect(schedule.leap == ScheduledLeap(midnight: Self.midnight, isInsertion: false))
        #expect(schedule.observe(announced: .none, at: UnixTime(seconds: Self.midnight - 40_000)) == .withdrawn(ScheduledLeap(midnight: Self.midnight, isInsertion: false)))
    }

    @Test func aRestartAfterTheLeapLearnsItFromTheList() {
        var schedule = LeapSmearSchedule()
        #expect(schedule.observe(announced: .none, at: UnixTime(seconds: Self.midnight + 600), recent: Self.leap) == .scheduled(Self.leap))
        var late = LeapSmearSchedule()
        #expect(late.observe(announced: .none, at: UnixTime(seconds: Self.midnight + 50_000), recent: Self.leap) == nil)
        #expect(late.leap == nil)
    }
}
