import PendulumDiscipline

/// How a `DisciplinedClock` polls and decides. The defaults are pendulum-ntpd's: a burst at
/// start, then every 16 s, lengthening to 17 minutes while the servers allow it.
public struct DisciplinedClockOptions: Sendable, Hashable {
    /// Shortest and longest poll interval, log2 seconds (chrony's `minpoll`/`maxpoll`: 0 is
    /// once a second, 4 is 16 s, 10 is 1024 s).
    public var pollLog2: ClosedRange<Int>
    /// How many servers must agree before the clock is steered. The agreeing group must also
    /// be a majority of the servers that answer.
    public var minimumAgreeing: Int
    /// Start with a quick burst of requests, as `iburst` does.
    public var initialBurst: Bool

    public init(pollLog2: ClosedRange<Int> = 4...10, minimumAgreeing: Int = 1, initialBurst: Bool = true) {
        self.pollLog2 = pollLog2
        self.minimumAgreeing = minimumAgreeing
        self.initialBurst = initialBurst
    }

    /// What is wrong with these options, if anything.
    var problem: String? {
        let supported = PollSettings.supportedLog2
        if !supported.contains(pollLog2.lowerBound) || !supported.contains(pollLog2.upperBound) {
            return "pollLog2 must lie within \(supported.lowerBound)...\(supported.upperBound)"
        }
        if minimumAgreeing < 1 { return "minimumAgreeing must be at least 1" }
        return nil
    }
}
