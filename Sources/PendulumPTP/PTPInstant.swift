/// A reading of the daemon's monotonic clock, in nanoseconds from an arbitrary origin. The core
/// never reads a clock: the shell passes the current instant with every event and arms timers
/// the core asks for in the same units.
public struct PTPInstant: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) {
        self.nanoseconds = nanoseconds
    }

    public static let zero = PTPInstant(nanoseconds: 0)

    public static func + (lhs: PTPInstant, rhs: Duration) -> PTPInstant {
        PTPInstant(nanoseconds: lhs.nanoseconds.addingSaturating(rhs.totalNanoseconds))
    }

    public static func - (lhs: PTPInstant, rhs: PTPInstant) -> Duration {
        .nanoseconds(lhs.nanoseconds.subtractingSaturating(rhs.nanoseconds))
    }

    public static func < (lhs: PTPInstant, rhs: PTPInstant) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    public var description: String { "\(nanoseconds)ns" }
}

/// 2^log seconds, the meaning of every logXxxInterval; clamped to 2⁻³⁰…2³² s so that absurd
/// values from the network cannot overflow.
public func logIntervalDuration(_ log: Int8, multipliedBy factor: Int64 = 1) -> Duration {
    let clamped = Swift.max(-30, Swift.min(32, Int(log)))
    let nanoseconds: Int64 = clamped >= 0 ? 1_000_000_000 << clamped : 1_000_000_000 >> -clamped
    return .nanoseconds(nanoseconds.multipliedSaturating(by: factor))
}

extension Duration {
    /// Whole nanoseconds, saturating at the Int64 range.
    var totalNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds.multipliedSaturating(by: 1_000_000_000).addingSaturating(attoseconds / 1_000_000_000)
    }
}

extension Int64 {
    func addingSaturating(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }

    func subtractingSaturating(_ other: Int64) -> Int64 {
        let (difference, overflow) = subtractingReportingOverflow(other)
        return overflow ? (other < 0 ? .max : .min) : difference
    }

    func multipliedSaturating(by other: Int64) -> Int64 {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        return overflow ? ((self < 0) == (other < 0) ? .max : .min) : product
    }
}
