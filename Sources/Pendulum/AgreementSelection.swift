import PendulumTime

/// Which servers agree: each server's answer says the true offset lies in
/// [offset - halfWidth, offset + halfWidth]; the largest group whose intervals share a point
/// are the truechimers (Marzullo's algorithm, as RFC 5905's selection uses it), the rest are
/// falsetickers. Pure: offsets in, indices and the shared interval out.
struct AgreementSelection: Equatable {
    /// Indices into the input of the servers that agree.
    var agreeing: [Int]
    /// The interval all of them allow: the true offset lies in it if they are right.
    var low: NTPDuration
    var high: NTPDuration

    struct Interval: Equatable {
        var offset: NTPDuration
        var halfWidth: NTPDuration
        var low: NTPDuration { offset - halfWidth }
        var high: NTPDuration { offset + halfWidth }
    }

    /// The largest agreeing group, or nil when `intervals` is empty. Ties go to the group
    /// found first in offset order, which is deterministic for the same input.
    static func select(_ intervals: [Interval]) -> AgreementSelection? {
        guard !intervals.isEmpty else { return nil }
        // Starts sort before ends at the same point: touching intervals agree.
        var edges: [(point: NTPDuration, isStart: Bool)] = []
        for interval in intervals {
            edges.append((interval.low, true))
            edges.append((interval.high, false))
        }
        edges.sort { $0.point != $1.point ? $0.point < $1.point : ($0.isStart && !$1.isStart) }
        var open = 0
        var best = 0
        var bestLow = NTPDuration.zero
        var bestHigh = NTPDuration.zero
        for (index, edge) in edges.enumerated() {
            if edge.isStart {
                open += 1
                if open > best, index + 1 < edges.count {
                    best = open
                    bestLow = edge.point
                    // The region ends at the next edge, whatever it is.
                    bestHigh = edges[index + 1].point
                }
            } else {
                open -= 1
            }
        }
        // Every interval covering the whole region [bestLow, bestHigh] belongs to the group;
        // the group's common interval is the intersection of its members.
        let agreeing = intervals.indices.filter { intervals[$0].low <= bestLow && intervals[$0].high >= bestHigh }
        guard let low = agreeing.map({ intervals[$0].low }).max(), let high = agreeing.map({ intervals[$0].high }).min() else { return nil }
        return AgreementSelection(agreeing: agreeing, low: low, high: high)
    }
}
