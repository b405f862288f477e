/// How late the proxy handed datagrams on, in 1 µs bins up to 10 ms: constant memory however
/// long it runs, and a p99 exact to the microsecond where it matters.
package struct LatenessHistogram: Sendable {
    private static let binCount = 10_000
    private var bins = [UInt64](repeating: 0, count: LatenessHistogram.binCount + 1)
    package private(set) var count: UInt64 = 0
    private var totalNanoseconds: Double = 0
    package private(set) var maximumNanoseconds: UInt64 = 0

    package init() {}

    package mutating func record(nanoseconds: UInt64) {
        let bin = Int(min(nanoseconds / 1_000, UInt64(Self.binCount)))
        bins[bin] &+= 1
        count &+= 1
        totalNanoseconds += Double(nanoseconds)
        maximumNanoseconds = max(maximumNanoseconds, nanoseconds)
    }

    package var meanMicroseconds: Double {
        count == 0 ? 0 : totalNanoseconds / Double(count) / 1_000
    }

    /// The upper edge of the bin holding the quantile; the maximum when it lies past 10 ms.
    package func quantileMicroseconds(_ quantile: Double) -> Double {
        guard count > 0 else { return 0 }
        let wanted = max(1, UInt64((Double(count) * min(max(quantile, 0), 1)).rounded(.up)))
        var seen: UInt64 = 0
        for (bin, binCount) in bins.enumerated() {
            seen &+= binCount
            if seen >= wanted {
                return bin == Self.binCount ? Double(maximumNanoseconds) / 1_000 : Double(min(UInt64(bin + 1) * 1_000, maximumNanoseconds)) / 1_000
            }
        }
        return Double(maximumNanoseconds) / 1_000
    }
}
