/// Tracks the smallest round-trip delays a source has shown recently.
///
/// NTP noise has a floor: the path's fixed delay. A sample whose delay is close to that floor
/// crossed both directions with little queueing, and its offset error is bounded by half of its
/// excess delay (for independent, equally distributed queueing per direction the error is even
/// uniform on ±excess/2, variance excess²/12). The tracker supplies that excess and an estimate
/// of how far the observed minimum may still sit above the true floor.
struct MinimumDelayTracker: Sendable {
    /// Recent delays in seconds, oldest first (a ring buffer).
    private var window: [Double]
    private var next = 0
    private(set) var count = 0
    private let capacity: Int

    init(capacity: Int = 128) {
        self.capacity = capacity
        window = []
        window.reserveCapacity(capacity)
    }

    mutating func add(_ delay: Double) {
        if window.count < capacity {
            window.append(delay)
        } else {
            window[next] = delay
        }
        next = (next + 1) % capacity
        count = window.count
        cachedStatistics = nil
    }

    private var cachedStatistics: (minimum: Double, medianExcess: Double)?

    /// The smallest delay in the window and the median excess over it.
    mutating func statistics() -> (minimum: Double, medianExcess: Double) {
        if let cachedStatistics { return cachedStatistics }
        guard !window.isEmpty else { return (0, 0) }
        let sorted = window.sorted()
        let minimum = sorted[0]
        let median = sorted[sorted.count / 2]
        let result = (minimum, median - minimum)
        cachedStatistics = result
        return result
    }

    /// Keeps only the `count` most recent delays: the path changed and the older ones describe
    /// a floor that is gone.
    mutating func keepOnlyMostRecent(_ count: Int) {
        guard count < window.count else { return }
        var recent: [Double] = []
        recent.reserveCapacity(capacity)
        for back in stride(from: count, through: 1, by: -1) {
            // `next` is one past the newest; before the ring fills it equals the count.
            let index = next - back
            recent.append(window[index >= 0 ? index : index + window.count])
        }
        window = recent
        next = window.count % capacity
        self.count = window.count
        cachedStatistics = nil
    }

    /// Forgets every delay, e.g. when the source's path is known to have changed.
    mutating func reset() {
        window.removeAll(keepingCapacity: true)
        next = 0
        count = 0
        cachedStatistics = nil
    }
}

extension MinimumDelayTracker {
    /// The smallest delay in the window (0 when empty), without sorting.
    var minimumSeen: Double { window.min() ?? 0 }
}
