import PendulumDiscipline
import PendulumNTS
import PendulumTime

/// Before the first synchronisation, NTS sources whose certificates are valid only at some
/// other time than the local clock's are used once enough of them, with different keys,
/// agree on a time at which every one of their certificates is valid. Pure arithmetic on
/// offsets from the local clock.
///
/// Each source says where true time is (its offset ± half its round trip plus its root
/// distance) and its certificate says where true time may be for the source to be believed
/// (notBefore…notAfter, as offsets from the local clock). A source's candidate is the part
/// of its interval inside its window; the agreement is a point inside the most candidates.
struct CertificateAgreement {
    struct Candidate: Sendable, Hashable {
        var id: SourceID
        var low: NTPDuration
        var high: NTPDuration
        var keyIdentity: [UInt8]
    }

    struct Verdict: Sendable, Hashable {
        /// The agreeing sources, one per key, in source order.
        var ids: [SourceID]
        /// An offset from the local clock inside all of their candidates.
        var offset: NTPDuration
    }

    /// `now`: the local clock when the measurement completed. nil when the source's own
    /// measurement lies entirely outside its certificate's validity: it proves its certificate
    /// was not valid when it answered.
    static func candidate(id: SourceID, measurement: Measurement, validity: CertificateValidity, now: UnixTime) -> Candidate? {
        let halfWidth = measurement.delay.magnitude.halved + measurement.rootDelay.duration.halved + measurement.rootDispersion.duration
        // Whole seconds: certificate times have no finer grain. Saturating arithmetic: the
        // window's ends come from the network.
        let windowLow = NTPDuration(seconds: Self.saturatingDifference(validity.notBefore, now.seconds))
        let windowHigh = NTPDuration(seconds: Self.saturatingDifference(validity.notAfter, now.seconds))
        let low = Swift.max(measurement.offset - halfWidth, windowLow)
        let high = Swift.min(measurement.offset + halfWidth, windowHigh)
        guard !(high < low) else { return nil }
        return Candidate(id: id, low: low, high: high, keyIdentity: validity.keyIdentity)
    }

    /// The largest group of candidates with a point in common, at most one per key; nil when
    /// it has fewer than `required` members.
    static func agreeing(_ candidates: [Candidate], required: Int) -> Verdict? {
        // Two servers with one key are one operator: keep the narrower of each key's candidates.
        var byKey: [[UInt8]: Candidate] = [:]
        for candidate in candidates {
            if let kept = byKey[candidate.keyIdentity], !(candidate.high - candidate.low < kept.high - kept.low) { continue }
            byKey[candidate.keyIdentity] = candidate
        }
        let independent = byKey.values.sorted { $0.id < $1.id }
        guard independent.count >= Swift.max(required, 1) else { return nil }
        // Marzullo's sweep: starts before ends at the same offset, so touching intervals agree.
        var edges: [(offset: NTPDuration, isStart: Bool)] = []
        for candidate in independent {
            edges.append((candidate.low, true))
            edges.append((candidate.high, false))
        }
        edges.sort { $0.offset < $1.offset || ($0.offset == $1.offset && $0.isStart && !$1.isStart) }
        var inside = 0
        var best = 0
        var bestOffset = NTPDuration.zero
        for edge in edges {
            if edge.isStart {
                inside += 1
                if inside > best {
                    best = inside
                    bestOffset = edge.offset
                }
            } else {
                inside -= 1
            }
        }
        guard best >= Swift.max(required, 1) else { return nil }
        let members = independent.filter { !(bestOffset < $0.low) && !($0.high < bestOffset) }.map(\.id)
        return Verdict(ids: members, offset: bestOffset)
    }

    /// NTPDuration(seconds:) saturates beyond ±68 years; only the subtraction itself could trap.
    private static func saturatingDifference(_ a: Int64, _ b: Int64) -> Int64 {
        let (difference, overflow) = a.subtractingReportingOverflow(b)
        return overflow ? (a < b ? .min : .max) : difference
    }
}
