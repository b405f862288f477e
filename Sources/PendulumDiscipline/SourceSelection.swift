import PendulumTime

/// One source's current estimate, as selection sees it.
public struct SourceCandidate: Sendable, Hashable {
    public var id: SourceID
    /// Server minus local time, s, extrapolated to now.
    public var offset: Double
    public var variance: Double
    public var frequency: Double
    /// Half-width of the interval the true offset must lie in: statistical uncertainty plus
    /// what no measurement can reveal (half the path delay, the server's root distance).
    public var bound: Double
    public var stratum: UInt8
    public var leap: LeapIndicator
    public var rootDelay: Double
    public var rootDispersion: Double
    public var delay: Double
}

/// The outcome of selecting and combining sources.
public struct SelectionResult: Sendable, Hashable {
    public var survivors: [SourceID]
    public var falsetickers: [SourceID]
    /// The survivor with the smallest variance: the system peer for stratum and refid.
    public var primary: SourceID
    public var offset: Double
    public var variance: Double
    public var frequency: Double
    public var leap: LeapIndicator
}

/// Interval intersection (Marzullo's algorithm as RFC 5905 uses it), then a covariance-weighted
/// combination of the survivors.
public enum SourceSelection {
    /// Returns nil when fewer than `minimumAgreeing` sources agree, or no majority agrees.
    public static func select(_ candidates: [SourceCandidate], minimumAgreeing: Int) -> SelectionResult? {
        let n = candidates.count
        guard n > 0, n >= minimumAgreeing else { return nil }
        // Endpoints: -1 opens an interval, +1 closes it; sorted by position, openings first on ties.
        var endpoints: [(position: Double, kind: Int)] = []
        endpoints.reserveCapacity(2 * n)
        for candidate in candidates {
            endpoints.append((candidate.offset - candidate.bound, -1))
            endpoints.append((candidate.offset + candidate.bound, 1))
        }
        endpoints.sort { $0.position < $1.position || ($0.position == $1.position && $0.kind < $1.kind) }
        var low = 0.0
        var high = 0.0
        var found = false
        // Allow f falsetickers, fewer than half.
        var allowed = 0
        while 2 * allowed < n {
            let needed = n - allowed
            var depth = 0
            var lowFound: Double?
            for endpoint in endpoints {
                depth -= endpoint.kind
                if depth >= needed {
                    lowFound = endpoint.position
                    break
                }
            }
            depth = 0
            var highFound: Double?
            for endpoint in endpoints.reversed() {
                depth += endpoint.kind
                if depth >= needed {
                    highFound = endpoint.position
                    break
                }
            }
            if let lowFound, let highFound, lowFound <= highFound {
                low = lowFound
                high = highFound
                found = true
                break
            }
            allowed += 1
        }
        guard found else { return nil }
        var survivors: [SourceCandidate] = []
        var falsetickers: [SourceID] = []
        for candidate in candidates {
            if candidate.offset + candidate.bound >= low && candidate.offset - candidate.bound <= high {
                survivors.append(candidate)
            } else {
                falsetickers.append(candidate.id)
            }
        }
        guard survivors.count >= max(1, minimumAgreeing), let first = survivors.first else { return nil }
        // Inverse-variance weights; the root distance adds uncertainty no filter can see.
        var weightSum = 0.0
        var offset = 0.0
        var frequency = 0.0
        var primary = first
        var primaryVariance = Double.infinity
        var votes: [LeapIndicator: Int] = [:]
        for survivor in survivors {
            let rootTerm = (survivor.rootDelay / 2 + survivor.rootDispersion)
            let variance = max(survivor.variance + rootTerm * rootTerm / 3, 1e-30)
            let weight = 1 / variance
            weightSum += weight
            offset += weight * survivor.offset
            frequency += weight * survivor.frequency
            if variance < primaryVariance {
                primaryVariance = variance
                primary = survivor
            }
            votes[survivor.leap, default: 0] += 1
        }
        // A leap is announced only when more than half of the survivors announce it.
        var leap = LeapIndicator.none
        for status in [LeapIndicator.insertSecond, .deleteSecond] where 2 * (votes[status] ?? 0) > survivors.count {
            leap = status
        }
        return SelectionResult(
            survivors: survivors.map(\.id), falsetickers: falsetickers, primary: primary.id,
            offset: offset / weightSum, variance: 1 / weightSum, frequency: frequency / weightSum, leap: leap
        )
    }
}
