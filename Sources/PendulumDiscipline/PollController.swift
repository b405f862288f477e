/// Chooses a source's poll interval (log2 seconds) within configured limits.
///
/// Faster polling always sharpens the estimate (more samples to average, less wander between
/// them), so the question is when it stops being worth the traffic. The answer used here: when
/// the statistical error is already well below what no measurement can reveal — the path's
/// possible asymmetry, half its minimum delay — further samples buy nothing real. The interval
/// grows while the error predicted at the next poll is under half that target and shrinks when
/// it exceeds it, one step at a time with hysteresis. A fresh source starts with a burst of quick polls so the clock is set in seconds.
public struct PollController: Sendable, Hashable {
    public var limits: ClosedRange<Int>
    /// Answers wanted at `burstInterval` when a source starts (iburst).
    public var burstCount: Int
    public var burstIntervalLog2: Int
    /// Requests per poll with `burst`: the poll itself and the quick ones after it; 0 or 1
    /// for a single request per poll.
    public var regularBurstCount: Int
    /// Target accuracy as a fraction of half the minimum delay.
    public var balance: Double
    public private(set) var current: Int
    /// Polls left in the burst under way (a regular one with `regularBurstCount`).
    private var burstRemaining: Int
    /// The start-up burst ends after `burstCount` answers, not polls: each lost answer in it
    /// left the frequency learned from the burst less certain, and with 10 % loss each way
    /// a burst of three answers in eight polls let the clock wander by hundreds of
    /// microseconds over the first regular intervals. It may take twice as many polls.
    private var startupAnswersWanted: Int
    private var startupPollsRemaining: Int
    private var vote = 0

    public init(limits: ClosedRange<Int>, burstCount: Int = 4, burstIntervalLog2: Int = 1, balance: Double = 1, regularBurstCount: Int = 0) {
        self.limits = limits
        self.burstCount = burstCount
        self.burstIntervalLog2 = burstIntervalLog2
        self.regularBurstCount = regularBurstCount
        self.balance = balance
        current = limits.lowerBound
        burstRemaining = 0
        startupAnswersWanted = burstCount
        startupPollsRemaining = 2 * burstCount
    }

    /// Quick polls of the start-up burst are still wanted.
    var inStartupBurst: Bool { startupAnswersWanted > 0 && startupPollsRemaining > 0 }

    /// The log2 interval to wait before the next poll.
    public var nextIntervalLog2: Int {
        inStartupBurst || burstRemaining > 0 ? min(burstIntervalLog2, current) : current
    }

    /// Start over (new source, or its filter restarted).
    public mutating func restart() {
        current = limits.lowerBound
        burstRemaining = 0
        startupAnswersWanted = burstCount
        startupPollsRemaining = 2 * burstCount
        vote = 0
    }

    /// The source answered one poll.
    mutating func answerReceived() {
        if startupAnswersWanted > 0 { startupAnswersWanted -= 1 }
    }

    /// One poll was sent: the burst advances. With `regularBurstCount`, a poll of a reachable
    /// source at the regular interval opens a new burst, when the interval is long enough for
    /// one to fit in a quarter of it.
    mutating func pollSent(reachable: Bool = false) {
        if inStartupBurst {
            startupPollsRemaining -= 1
        } else if burstRemaining > 0 {
            burstRemaining -= 1
        } else if regularBurstCount > 1, reachable, current - burstIntervalLog2 >= 2 + Self.log2Ceiling(regularBurstCount) {
            burstRemaining = regularBurstCount - 1
        }
    }

    private static func log2Ceiling(_ value: Int) -> Int {
        var log2 = 0
        while (1 << log2) < value { log2 += 1 }
        return log2
    }

    /// After an accepted sample. `predictedError` is the filter's offset std-dev extrapolated
    /// to the next poll at the current interval; `target` is the accuracy worth having.
    mutating func update(predictedError: Double, target: Double) {
        guard limits.lowerBound < limits.upperBound else {
            current = limits.lowerBound
            return
        }
        if predictedError < target / 2 {
            vote += 1
        } else if predictedError > target {
            vote -= 2
        } else {
            vote = vote > 0 ? vote - 1 : (vote < 0 ? vote + 1 : 0)
        }
        if vote >= 8 {
            current = min(current + 1, limits.upperBound)
            vote = 0
        } else if vote <= -4 {
            current = max(current - 1, limits.lowerBound)
            vote = 0
        }
    }

    /// Something went wrong (outliers, unreachable): poll faster to find out sooner.
    mutating func decrease() {
        current = max(current - 1, limits.lowerBound)
        vote = 0
    }
}
