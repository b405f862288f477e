import Testing
import PendulumNTP
import PendulumNTPServer
import PendulumNTS
import PendulumTime

@Suite struct NTPServerCoreTests {
    let noLimit = NTPServerCore.Configuration(rateLimit: nil)

    @Test func answersAClientRequestWithMode4AndCopiedFields() throws {
        var core = NTPServerCore(configuration: noLimit)
        let decision = Fixture.decide(&core, Fixture.request(version: 4, poll: 7))
        guard case .respond(let bytes) = decision else { Issue.record("no response: \(decision)"); return }
        #expect(bytes.count == 48)
        let header = try NTPPacket(parsing: bytes).header
        #expect(header.mode == .server)
        #expect(header.version == 4)
        #expect(header.poll == 7)
        #expect(header.originTimestamp == Fixture.clientTransmit)
        #expect(header.receiveTimestamp == Fixture.t2)
        #expect(header.transmitTimestamp == Fixture.t3)
        #expect(header.stratum == 3)
        #expect(header.leap == .none)
        #expect(header.referenceID == ReferenceID(ascii: "LOCL"))
        #expect(core.counters.responded == 1)
    }

    @Test func unsynchronisedServerSaysLeap3Stratum16() throws {
        var core = NTPServerCore(configuration: noLimit)
        var state = ServerClockState.local(stratum: 2)
        state.isSynchronized = false
        guard case .respond(let bytes) = Fixture.decide(&core, Fixture.request(), state: state) else { Issue.record("no response"); return }
        let header = try NTPPacket(parsing: bytes).header
        #expect(header.leap == .unsynchronized)
        #expect(header.stratum == 16)
    }

    @Test(arguments: 0...7) func onlyMode3IsAnswered(mode: UInt8) {
        var core = NTPServerCore(configuration: noLimit)
        var request = Fixture.request()
        request[0] = request[0] & ~0x7 | mode
        let decision = Fixture.decide(&core, request)
        if mode == 3 {
            #expect(decision.outcome == .responded)
        } else {
            #expect(decision == .drop(.wrongMode))
            #expect(core.counters[.wrongMode] == 1)
        }
    }

    @Test(arguments: 0...7) func versionsOneToFourAnsweredWithTheirVersion(version: UInt8) throws {
        var core = NTPServerCore(configuration: noLimit)
        var request = Fixture.request()
        request[0] = request[0] & ~0x38 | version << 3
        let decision = Fixture.decide(&core, request)
        if (1...4).contains(version) {
            guard case .respond(let bytes) = decision else { Issue.record("v\(version) not answered"); return }
            #expect((bytes[0] >> 3) & 7 == version)
            #expect(bytes.count <= request.count)
        } else {
            #expect(decision == .drop(.unsupportedVersion))
        }
    }

    @Test func truncatedRequestsAreMalformed() {
        var core = NTPServerCore(configuration: noLimit)
        let full = Fixture.request()
        for length in 0..<48 {
            #expect(Fixture.decide(&core, Array(full.prefix(length))) == .drop(.malformed))
        }
        #expect(core.counters[.malformed] == 48)
        #expect(core.counters.total == 48)
    }

    @Test func oversizedRequestsAreDroppedUnread() {
        var core = NTPServerCore(configuration: NTPServerCore.Configuration(rateLimit: nil, maximumRequestBytes: 1024))
        let field = ExtensionField(type: 0x7777, value: [UInt8](repeating: 0, count: 1020))
        var extra: [UInt8] = []
        field.write(to: &extra)
        #expect(Fixture.decide(&core, Fixture.request(extraBytes: extra)) == .drop(.oversized))
        #expect(core.counters[.oversized] == 1)
    }

    @Test func extensionFieldBombGetsAHeaderOnlyAnswerNoLargerThanTheRequest() {
        var core = NTPServerCore(configuration: noLimit)
        var extra: [UInt8] = []
        for index in 0..<120 { ExtensionField(type: UInt16(0x2000 + index), value: [UInt8](repeating: 0xAA, count: 12)).write(to: &extra) }
        let request = Fixture.request(extraBytes: extra)
        let decision = Fixture.decide(&core, request)
        #expect(decision.outcome == .responded)
        #expect((decision.reply?.count ?? .max) <= 48)
        #expect(request.count == 48 + 120 * 16)
    }

    @Test func malformedExtensionFieldsAreDropped() {
        var core = NTPServerCore(configuration: noLimit)
        // A field claiming 400 bytes in a 16-byte tail; a 13-byte tail; a misaligned length.
        let tails: [[UInt8]] = [[0x20, 0x00, 0x01, 0x90] + [UInt8](repeating: 0, count: 12), [UInt8](repeating: 1, count: 13),
                                [0x20, 0x00, 0x00, 0x11] + [UInt8](repeating: 0, count: 24)]
        for tail in tails { #expect(Fixture.decide(&core, Fixture.request(extraBytes: tail)) == .drop(.malformed)) }
        // Extension fields in a version 3 packet.
        #expect(Fixture.decide(&core, Fixture.request(version: 3, extraBytes: [UInt8](repeating: 0, count: 32))) == .drop(.malformed))
    }

    @Test func kissLookingRequestsAreJustRequestsAndKissesAreNotAnswered() {
        var core = NTPServerCore(configuration: noLimit)
        var bytes: [UInt8] = []
        NTPHeader(leap: .unsynchronized, mode: .client, stratum: 0, referenceID: .kissRate, transmitTimestamp: Fixture.clientTransmit).write(to: &bytes)
        #expect(Fixture.decide(&core, bytes).outcome == .responded)
        var kiss: [UInt8] = []
        NTPHeader(leap: .unsynchronized, mode: .server, stratum: 0, referenceID: .kissDeny).write(to: &kiss)
        #expect(Fixture.decide(&core, kiss) == .drop(.wrongMode))
    }

    @Test func denyListGetsADenyKissOrSilence() throws {
        let deny = [try AddressPrefix(parsing: "192.0.2.0/24"), try AddressPrefix(parsing: "2001:db8::/32")]
        var kissing = NTPServerCore(configuration: NTPServerCore.Configuration(access: AccessPolicy(deny: deny), rateLimit: nil))
        let request = Fixture.request()
        guard case .kissOfDeath(let bytes, .deny) = Fixture.decide(&kissing, request) else { Issue.record("no DENY"); return }
        let header = try NTPPacket(parsing: bytes).header
        #expect(header.stratum == 0)
        #expect(header.referenceID == .kissDeny)
        #expect(header.originTimestamp == Fixture.clientTransmit)
        #expect(bytes.count <= request.count)
        let v6: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1]
        #expect(Fixture.decide(&kissing, request, client: v6).outcome == .kiss(.deny))
        #expect(Fixture.decide(&kissing, request, client: [198, 51, 100, 1]).outcome == .responded)
        // IPv4-mapped IPv6 is judged as the IPv4 address it carries.
        let mapped: [UInt8] = [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF, 192, 0, 2, 9]
        #expect(Fixture.decide(&kissing, request, client: mapped).outcome == .kiss(.deny))

        var silent = NTPServerCore(configuration: NTPServerCore.Configuration(access: AccessPolicy(deny: deny, refusal: .drop), rateLimit: nil))
        #expect(Fixture.decide(&silent, request) == .drop(.denied))
        #expect(silent.counters[.denied] == 1)
    }

    @Test func denyKissesAreRateLimited() throws {
        let limit = RateLimiter.Configuration(minimumIntervalNanoseconds: 1_000_000_000, burst: 2, kissIntervalNanoseconds: 10_000_000_000, tableSize: 64)
        let deny = [try AddressPrefix(parsing: "192.0.2.0/24")]
        var core = NTPServerCore(configuration: NTPServerCore.Configuration(access: AccessPolicy(deny: deny), rateLimit: limit))
        var kisses = 0
        for _ in 0..<100 where Fixture.decide(&core, Fixture.request(), at: 0).outcome == .kiss(.deny) { kisses += 1 }
        // The burst, then one more kiss for going over it, then silence.
        #expect(kisses == 3)
        #expect(core.counters[.denied] == 97)
    }

    @Test func allowListRefusesEveryoneElse() throws {
        let allow = [try AddressPrefix(parsing: "10.0.0.0/8")]
        var core = NTPServerCore(configuration: NTPServerCore.Configuration(access: AccessPolicy(allow: allow), rateLimit: nil))
        #expect(Fixture.decide(&core, Fixture.request(), client: [10, 1, 2, 3]).outcome == .responded)
        #expect(Fixture.decide(&core, Fixture.request(), client: [11, 1, 2, 3]).outcome == .kiss(.deny))
    }

    @Test func requireNTSAnswersPlainRequestsWithRestrict() {
        var core = NTPServerCore(configuration: NTPServerCore.Configuration(rateLimit: nil, requireNTS: true))
        #expect(Fixture.decide(&core, Fixture.request()).outcome == .kiss(.restrict))
        #expect(core.counters[kiss: .restrict] == 1)
    }

    @Test func rateLimitAllowsABurstThenOneRateKissThenSilence() throws {
        let limit = RateLimiter.Configuration(minimumIntervalNanoseconds: 1_000_000_000, burst: 4, kissIntervalNanoseconds: 10_000_000_000, tableSize: 64)
        var core = NTPServerCore(configuration: NTPServerCore.Configuration(rateLimit: limit))
        let request = Fixture.request()
        for _ in 0..<4 { #expect(Fixture.decide(&core, request, at: 0).outcome == .responded) }
        guard case .kissOfDeath(let kiss, .rate) = Fixture.decide(&core, request, at: 0) else { Issue.record("no RATE kiss"); return }
        #expect(kiss.count <= request.count)
        #expect(try NTPPacket(parsing: kiss).header.referenceID == .kissRate)
        for _ in 0..<50 { #expect(Fixture.decide(&core, request, at: 1_000) == .drop(.rateLimited)) }
        // Another client is not affected.
        #expect(Fixture.decide(&core, request, client: [198, 51, 100, 2], at: 1_000).outcome == .responded)
        // After the interval the client gets one more answer.
        #expect(Fixture.decide(&core, request, at: 1_000_000_000).outcome == .responded)
        #expect(core.counters[kiss: .rate] == 1)
        #expect(core.counters[.rateLimited] == 50)
    }

    @Test func spoofedSourcesCannotGrowTheTable() {
        var limiter = RateLimiter(configuration: RateLimiter.Configuration(minimumIntervalNanoseconds: 1_000_000_000, burst: 1, tableSize: 1024))
        let slots = limiter.slotCount
        var allowed = 0
        for index in 0..<200_000 {
            let address: [UInt8] = [10, UInt8(truncatingIfNeeded: index >> 16), UInt8(truncatingIfNeeded: index >> 8), UInt8(truncatingIfNeeded: index)]
            if limiter.check(client: address, now: 0) == .allowed { allowed += 1 }
        }
        #expect(limiter.slotCount == slots)
        // Each spoofed address is new, so each gets its first answer: limiting never blocks a
        // client because of others, it only forgets them.
        #expect(allowed == 200_000)
    }
}
