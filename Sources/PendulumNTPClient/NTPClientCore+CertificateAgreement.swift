import PendulumDiscipline
import PendulumNTS
import PendulumTime

/// Before the first synchronisation, NTS sources whose certificates are valid but not at the
/// local clock's time (`CertificateTimePolicy.afterAgreement`): their samples are held back
/// until enough of them, with different keys, agree on a time within all their certificates'
/// validity; then those samples go to the discipline, which sets the clock. From then on the
/// clock is trusted: every NTS-KE checks certificates against it, and the sources admitted on
/// agreement run NTS-KE again under that check.
extension NTPClientCore {
    /// Sources needed to agree: never one, whatever `minimum-agreeing-sources` says, since a
    /// single stolen key of an expired certificate must not set the clock.
    var provisionalSourcesRequired: Int { Swift.max(2, discipline.configuration.minimumAgreeingSources) }

    mutating func considerProvisionalSources(at now: NTPTimestamp) -> [ClientAction] {
        var candidates: [CertificateAgreement.Candidate] = []
        for (id, source) in sources {
            guard let validity = source.provisionalCertificate, !source.vouched, let held = source.heldSample else { continue }
            let localTime = held.receivedAt.unixTime(nearestTo: NTPTimestamp.eraPivot)
            if let candidate = CertificateAgreement.candidate(id: id, measurement: held.measurement, validity: validity, now: localTime) {
                candidates.append(candidate)
            }
        }
        let required = provisionalSourcesRequired
        guard let verdict = CertificateAgreement.agreeing(candidates, required: required) else {
            for (id, source) in sources where source.provisionalCertificate != nil && !source.vouched {
                sources[id]?.lastError = "waiting for \(required) NTS sources with different keys to agree on a time within their certificates' validity (\(candidates.count) usable so far)"
            }
            let shown = candidates.sorted { $0.id < $1.id }.map { "\(names([$0.id])) \($0.low.seconds)…\($0.high.seconds) s" }
            return [.log(.debug, "no \(required) NTS sources agree yet within their certificates' validity; candidates: \(shown.isEmpty ? "none" : shown.joined(separator: ", "))")]
        }
        let agreedTime = now.unixTime(nearestTo: NTPTimestamp.eraPivot).seconds + (verdict.offset.rawValue >> 32)  // whole seconds, for the log
        var actions: [ClientAction] = [.log(.notice, "NTS sources \(names(verdict.ids)) agree that it is about \(Self.utc(agreedTime)), within each one's certificate validity: using them to set the clock")]
        var samples: [(id: SourceID, measurement: Measurement, receivedAt: NTPTimestamp)] = []
        for id in verdict.ids {
            guard var source = sources[id], let held = source.heldSample else { continue }
            source.vouched = true
            source.heldSample = nil
            source.lastError = nil
            sources[id] = source
            samples.append((id, held.measurement, held.receivedAt))
        }
        for sample in samples.sorted(by: { ($0.receivedAt - $1.receivedAt) < .zero }) {
            actions += apply(discipline.handle(sample.measurement, from: sample.id, at: sample.receivedAt), at: sample.receivedAt)
        }
        return actions
    }

    /// The first synchronisation: from now on every certificate is checked against the clock,
    /// and those judged by agreement are checked again at their sources' next poll.
    mutating func trustClock() -> [ClientAction] {
        clockTrusted = true
        var actions: [ClientAction] = []
        for (id, var source) in sources {
            source.certificateTime = .againstLocalClock
            if source.provisionalCertificate != nil {
                source.rekeyWithCheckedTime = true
                actions.append(.log(.info, "source \(source.specification.displayAddress): NTS-KE again at the next poll, its certificate checked against the clock just set"))
            }
            sources[id] = source
        }
        return actions
    }

    static func utc(_ time: NTPTimestamp) -> String { time.unixTime(nearestTo: NTPTimestamp.eraPivot).description }

    /// ISO 8601, for logs; certificate times come from the network, so absurd ones are
    /// clamped to years 1–9999 first.
    static func utc(_ unixSeconds: Int64) -> String {
        UnixTime(seconds: Swift.max(Swift.min(unixSeconds, 253_402_300_799), -62_135_596_800)).description
    }
}
