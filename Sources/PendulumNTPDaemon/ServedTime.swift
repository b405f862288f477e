import PendulumIO
import PendulumNTPServer
import PendulumTime

/// The time one serving worker puts in its answers: the served clock's reading, smeared over
/// a leap second when its listener is configured to (`leap-smear`).
struct ServedTime {
    let clock: any SteerableClock
    let smear: LeapSmear?
    /// The leap second being smeared, from the serving state.
    var leap: ScheduledLeap?

    /// The time now: a reply's T3.
    func now() -> UnixTime {
        guard let smear, let leap else { return clock.now() }
        let (reading, isRepeat) = Self.readNow(clock, leap)
        return smear.served(reading, isRepeat: isRepeat, leap: leap)
    }

    /// The time at a kernel timestamp taken a moment ago: a request's T2, a reply's
    /// transmit time.
    func time(atSystemTime systemTime: UnixTime) -> UnixTime {
        let reading = clock.time(atSystemTime: systemTime)
        guard let smear, let leap else { return reading }
        return smear.served(reading, isRepeat: Self.isRepeat(earlier: reading, clock, leap), leap: leap)
    }

    /// Only the day's last second before an inserted leap is read twice.
    static func isAmbiguous(_ reading: UnixTime, _ leap: ScheduledLeap) -> Bool {
        leap.isInsertion && reading.seconds == leap.midnight - 1
    }

    /// A reading and whether it is from the inserted second. The clock is asked about the
    /// leap only in the one second where it matters (for the kernel clock a system call).
    static func readNow(_ clock: any SteerableClock, _ leap: ScheduledLeap) -> (reading: UnixTime, isRepeat: Bool) {
        let first = clock.now()
        guard isAmbiguous(first, leap) else { return (first, false) }
        let before = clock.isRepeatingLeapSecond
        let reading = clock.now()
        let after = clock.isRepeatingLeapSecond
        if before == after { return (reading, before) }
        // The inserted second began or ended between the two questions, so the reading is
        // next to one of its edges: it began if the reading is near its start (midnight − 1),
        // and a reading near midnight is the end of the first pass; if it ended, the reading
        // is the end of the repeat.
        return (reading, before || reading < UnixTime(seconds: leap.midnight) - .milliseconds(500))
    }

    /// Whether an earlier reading, from a packet's kernel timestamp, was in the inserted
    /// second: it is the latest pass of that second not after now (a packet is answered
    /// within milliseconds, never a second later).
    static func isRepeat(earlier reading: UnixTime, _ clock: any SteerableClock, _ leap: ScheduledLeap) -> Bool {
        guard isAmbiguous(reading, leap) else { return false }
        let (now, nowRepeats) = readNow(clock, leap)
        if now.seconds >= leap.midnight { return true }
        return nowRepeats && reading <= now
    }
}
