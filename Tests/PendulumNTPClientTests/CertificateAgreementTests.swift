import PendulumDiscipline
import PendulumNTP
@testable import PendulumNTPClient
import PendulumNTS
import PendulumTime
import Testing

/// A clock years off at start (a board without an RTC): NTS sources whose certificates are
/// valid only at another time are used once two with different keys agree on a time within
/// every one of their certificates' validity, and checked again against the clock once set.
@Suite struct CertificateAgreementTests {
    /// True time is five years after the local clock's.
    static let ahead = NTPDuration(seconds: 157_766_400)
    static let localUnix = World.start.unixTime(nearestTo: NTPTimestamp.eraPivot).seconds
    static let trueUnix = localUnix + 157_766_400

    static func validity(key: UInt8, from notBefore: Int64 = trueUnix - 30 * 86_400, to notAfter: Int64 = trueUnix + 60 * 86_400) -> CertificateValidity {
        CertificateValidity(notBefore: notBefore, notAfter: notAfter, keyIdentity: [key, 1, 2, 3])
    }

    static func nts(_ host: String) -> SourceSpecification {
        SourceSpecification(host: host, port: 123, mode: .nts, keyExchangePort: 4460)
    }

    /// Runs a source's NTS-KE (reporting `validity`) and one exchange with a server `offset`
    /// ahead: what the core did.
    static func keyAndAsk(
        _ harness: inout Harness, _ id: SourceID, validity: CertificateValidity?, offset: NTPDuration = ahead, seed: UInt8 = 3
    ) throws -> (keyExchange: ClientAction?, actions: [ClientAction]) {
        let polled = harness.core.timerFired(.poll(id), at: harness.now)
        let keyset = World.keyset(seed)
        var actions = harness.core.keyExchangeCompleted(
            id, association: try World.ntsAssociation(keyset: keyset), ntpHost: "192.0.2.\(id.rawValue + 1)", ntpPort: nil,
            certificateValidity: validity, at: harness.now)
        actions += harness.core.resolved(id, addresses: [ResolvedAddress(ipv4: 192, 0, 2, UInt8(id.rawValue + 1), port: 123)], at: harness.now)
        let request = try #require(World.sends(actions).last?.bytes)
        var server = TestServer(offset: offset, keyset: keyset)
        harness.core.transmitted(id, at: harness.now)
        let answerBytes = server.answer(request, at: harness.now + .microseconds(100))
        let answer = try #require(answerBytes)
        actions += harness.core.received(answer, from: id, at: harness.now + .microseconds(200))
        return (polled.first, actions)
    }

    // MARK: The arithmetic

    @Test func twoSourcesWithDifferentKeysAgreeOnAPointInsideBothCandidates() {
        let a = CertificateAgreement.Candidate(id: SourceID(0), low: .seconds(100), high: .seconds(102), keyIdentity: [1])
        let b = CertificateAgreement.Candidate(id: SourceID(1), low: .seconds(101), high: .seconds(104), keyIdentity: [2])
        let c = CertificateAgreement.Candidate(id: SourceID(2), low: .seconds(3700), high: .seconds(3702), keyIdentity: [3])
        let verdict = CertificateAgreement.agreeing([c, a, b], required: 2)
        #expect(verdict?.ids == [SourceID(0), SourceID(1)])
        #expect(verdict.map { !($0.offset < .seconds(101)) && !(.seconds(102) < $0.offset) } == true)
        // Three needed: only two agree.
        #expect(CertificateAgreement.agreeing([a, b, c], required: 3) == nil)
        // One key on two servers is one vote.
        let sameKey = CertificateAgreement.Candidate(id: SourceID(1), low: .seconds(101), high: .seconds(104), keyIdentity: [1])
        #expect(CertificateAgreement.agreeing([a, sameKey], required: 2) == nil)
    }

    @Test func aSourceWhoseAnswerLiesOutsideItsOwnCertificateIsNoCandidate() {
        let measurement = Measurement(
            offset: .seconds(1000), delay: .milliseconds(2), localTime: World.start, rootDelay: .zero, rootDispersion: .zero,
            stratum: 1, leap: .none, sourceReferenceID: 0)
        let now = UnixTime(seconds: 1_700_000_000)
        let expired = CertificateValidity(notBefore: 1_600_000_000, notAfter: 1_700_000_500, keyIdentity: [1])
        #expect(CertificateAgreement.candidate(id: SourceID(0), measurement: measurement, validity: expired, now: now) == nil)
        let valid = CertificateValidity(notBefore: 1_600_000_000, notAfter: 1_800_000_000, keyIdentity: [1])
        let candidate = CertificateAgreement.candidate(id: SourceID(0), measurement: measurement, validity: valid, now: now)
        #expect(candidate.map { abs(($0.high - $0.low).seconds - 0.002) < 1e-6 } == true)
        // A window that clips the interval: only the part inside remains.
        let edge = CertificateValidity(notBefore: 1_700_001_000, notAfter: 1_800_000_000, keyIdentity: [1])
        let clipped = CertificateAgreement.candidate(id: SourceID(0), measurement: measurement, validity: edge, now: now)
        #expect(clipped?.low == .seconds(1000) && clipped.map { abs(($0.high - $0.low).seconds - 0.001) < 1e-6 } == true)
        // Absurd certificate times do not trap.
        let absurd = CertificateValidity(notBefore: .min, notAfter: .max, keyIdentity: [1])
        #expect(CertificateAgreement.candidate(id: SourceID(0), measurement: measurement, validity: absurd, now: now) != nil)
    }

    // MARK: The core

    @Test func twoAgreeingSourcesSetTheClockAndAreThenCheckedAgainstIt() throws {
        var harness = Harness([Self.nts("a.test"), Self.nts("b.test"), Self.nts("c.test")])
        _ = harness.core.start()
        let first = try Self.keyAndAsk(&harness, SourceID(0), validity: Self.validity(key: 1), seed: 3)
        #expect(first.keyExchange == .runKeyExchange(SourceID(0), host: "a.test", port: 4460, caFile: nil, certificateTime: .deferredUntilAgreement))
        #expect(World.logs(first.actions, .warning).first?.contains("not at the local clock's 2023-08-02T21:20:00") == true, "\(first.actions.filter { if case .log = $0 { true } else { false } })")
        #expect(World.steps(first.actions).isEmpty, "one source alone must not set the clock")
        #expect(harness.core.sourceStatuses(at: harness.now).first?.lastError?.contains("waiting for 2 NTS sources with different keys") == true)

        let second = try Self.keyAndAsk(&harness, SourceID(1), validity: Self.validity(key: 2), seed: 4)
        #expect(World.logs(second.actions, .notice).contains { $0.contains("agree that it is about 2028-08-01") && $0.contains("a.test:4460, b.test:4460") })
        // Admitted: the next answer goes to the discipline like any other, which steps once
        // its start-up gathering time (2 s) is over.
        harness.now = harness.now + .seconds(3)
        var server = TestServer(offset: Self.ahead, keyset: World.keyset(4))
        let third = harness.exchange(SourceID(1), with: &server, address: ResolvedAddress(ipv4: 192, 0, 2, 2, port: 123))
        let steps = World.steps(third)
        #expect(steps.count == 1 && abs((steps.first ?? .zero).seconds - Self.ahead.seconds) < 0.01, "\(third.filter { if case .send = $0 { false } else { true } })")
        #expect(World.logs(third, .info).filter { $0.contains("NTS-KE again at the next poll") }.count == 2)
        harness.now = harness.now + Self.ahead

        // Set: the sources admitted on agreement run NTS-KE again with the clock's check, and
        // a source keyed from now on is checked at once.
        #expect(harness.core.timerFired(.poll(SourceID(0)), at: harness.now).first
            == .runKeyExchange(SourceID(0), host: "a.test", port: 4460, caFile: nil, certificateTime: .againstLocalClock))
        #expect(harness.core.timerFired(.poll(SourceID(2)), at: harness.now).first
            == .runKeyExchange(SourceID(2), host: "c.test", port: 4460, caFile: nil, certificateTime: .againstLocalClock))
    }

    /// A deferred NTS-KE that was still out when the clock was set is judged by the clock.
    @Test func aDeferredKeyExchangeFinishingAfterTheClockWasSetIsJudgedByIt() throws {
        var harness = Harness([Self.nts("a.test"), Self.nts("b.test"), Self.nts("c.test"), Self.nts("d.test")])
        _ = harness.core.start()
        // c and d start their key exchanges (deferred) before anything is synchronised.
        #expect(harness.core.timerFired(.poll(SourceID(2)), at: harness.now).first
            == .runKeyExchange(SourceID(2), host: "c.test", port: 4460, caFile: nil, certificateTime: .deferredUntilAgreement))
        _ = harness.core.timerFired(.poll(SourceID(3)), at: harness.now)
        _ = try Self.keyAndAsk(&harness, SourceID(0), validity: Self.validity(key: 1), seed: 3)
        _ = try Self.keyAndAsk(&harness, SourceID(1), validity: Self.validity(key: 2), seed: 4)
        harness.now = harness.now + .seconds(3)
        var server = TestServer(offset: Self.ahead, keyset: World.keyset(4))
        let set = harness.exchange(SourceID(1), with: &server, address: ResolvedAddress(ipv4: 192, 0, 2, 2, port: 123))
        #expect(World.steps(set).count == 1)
        harness.now = harness.now + Self.ahead

        // c's certificate is valid now: taken as if checked, its answers go to the discipline.
        let current = harness.core.keyExchangeCompleted(
            SourceID(2), association: try World.ntsAssociation(keyset: World.keyset(5)), ntpHost: "192.0.2.3", ntpPort: nil,
            certificateValidity: Self.validity(key: 3), at: harness.now)
        #expect(World.logs(current, .warning).isEmpty, "\(current)")
        #expect(current.contains(.resolve(SourceID(2), host: "192.0.2.3", port: 123)))
        // d's expired a month before the time the clock was set to: refused.
        let stale = harness.core.keyExchangeCompleted(
            SourceID(3), association: try World.ntsAssociation(keyset: World.keyset(6)), ntpHost: "192.0.2.4", ntpPort: nil,
            certificateValidity: Self.validity(key: 4, from: Self.trueUnix - 400 * 86_400, to: Self.trueUnix - 30 * 86_400), at: harness.now)
        #expect(World.logs(stale, .warning).first?.contains("not now") == true, "\(stale)")
        #expect(!stale.contains { if case .resolve = $0 { true } else { false } })
    }

    @Test func disagreeingSourcesSharedKeysAndTimesOutsideTheCertificatesAreRefused() throws {
        // An hour apart.
        var apart = Harness([Self.nts("a.test"), Self.nts("b.test")])
        _ = apart.core.start()
        let a = try Self.keyAndAsk(&apart, SourceID(0), validity: Self.validity(key: 1), seed: 3)
        let b = try Self.keyAndAsk(&apart, SourceID(1), validity: Self.validity(key: 2), offset: Self.ahead + .seconds(3600), seed: 4)
        #expect(World.steps(a.actions + b.actions).isEmpty)

        // Two servers, one key.
        var shared = Harness([Self.nts("a.test"), Self.nts("b.test")])
        _ = shared.core.start()
        let c = try Self.keyAndAsk(&shared, SourceID(0), validity: Self.validity(key: 1), seed: 3)
        let d = try Self.keyAndAsk(&shared, SourceID(1), validity: Self.validity(key: 1), seed: 4)
        #expect(World.steps(c.actions + d.actions).isEmpty)

        // Both agree on a time their certificates had expired by (an attacker with two old keys).
        var expired = Harness([Self.nts("a.test"), Self.nts("b.test")])
        _ = expired.core.start()
        let old = Self.validity(key: 1, from: Self.trueUnix - 400 * 86_400, to: Self.trueUnix - 30 * 86_400)
        let e = try Self.keyAndAsk(&expired, SourceID(0), validity: old, seed: 3)
        let f = try Self.keyAndAsk(&expired, SourceID(1), validity: Self.validity(key: 2, from: old.notBefore, to: old.notAfter), seed: 4)
        #expect(World.steps(e.actions + f.actions).isEmpty)
    }

    @Test func certificatesValidAtTheLocalClockNeedNoAgreementAndAlwaysNeverDefers() throws {
        var harness = Harness([Self.nts("a.test")])
        _ = harness.core.start()
        let checked = try Self.keyAndAsk(&harness, SourceID(0), validity: nil, offset: .milliseconds(500))
        #expect(World.steps(checked.actions).count == 1)

        var strict = Harness([Self.nts("a.test")])
        strict.core = NTPClientCore(sources: [Self.nts("a.test")], random: ClientRandomSource(seed: 7), certificateTimePolicy: .always)
        _ = strict.core.start()
        #expect(strict.core.timerFired(.poll(SourceID(0)), at: strict.now).first
            == .runKeyExchange(SourceID(0), host: "a.test", port: 4460, caFile: nil, certificateTime: .againstLocalClock))
    }
}
