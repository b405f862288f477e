/// Chooses a source's poll interval (log2 seconds) within configured limits.
///
/// Polling is worth its traffic while the clock wanders more between two polls than one
/// sample can resolve: then each sample brings news. When a typical sample's noise is larger
/// than the wander accumulated over the interval, longer intervals lose little. The target is
/// the interval where the two are equal (q·τ³/3 = k·R), approached one step at a time with
/// hysteresis. A fresh source starts with a burst of quick polls so the clock is set in seconds.
public struct PollController: Sendable, Hashable {
    public var limits: ClosedRange<Int>
    /// Polls made at `burstInterval` when a source starts (iburst).
    public var burstCount: Int
    public var burstIntervalLog2: Int
    /// Ratio of wander-per-interval to measurement variance the controller aims for.
    public var balance: Double
    public private(set) var current: Int
    private var burstRemaining: Int
    private var vote = 0

    public init(limits: ClosedRange<Int>, burstCount: Int = 4, burstIntervalLog2: Int = 1, balance: Double = 1) {
        self.limits = limits
        self.burstCount = burstCount
        self.burstIntervalLog2 = burstIntervalLog2
        self.balance = balance
        current = limits.lowerBound
        burstRemaining = burstCount
    }

    /// The log2 interval to wait before the next poll.
    public var nextIntervalLog2: Int {
        burstRemaining > 0 ? min(burstIntervalLog2, current) : current
    }

    /// Start over (new source, or its filter restarted).
    public mutating func restart() {
        current = limits.lowerBound
        burstRemaining = burstCount
        vote = 0
    }

    /// One poll was sent (or timed out): the burst advances.
    mutating func pollSent() {
        if burstRemaining > 0 { burstRemaining -= 1 }
    }

    /// After an accepted sample: compare wander over the interval with measurement noise.
    mutating func update(wander: Double, measurementVariance: Double) {
        guard limits.lowerBound < limits.upperBound else {
            current = limits.lowerBound
            return
        }
        let tau = Double(1 << UInt(max(0, current)))
        let wanderOverInterval = wander * tau * tau * tau / 3
        let target = balance * measurementVariance
        if wanderOverInterval < target / 8 {
            vote += 1
        } else if wanderOverInterval > target {
            vote -= 2
        } else {
            vote = vote > 0 ? vote - 1 : (vote < 0 ? vote + 1 : 0)
        }
        if vote >= 6 {
            current = min(current + 1, limits.upperBound)
            vote = 0
        } else if vote <= -6 {
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
