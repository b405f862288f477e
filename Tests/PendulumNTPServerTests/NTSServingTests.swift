import Testing
import PendulumNTP
import PendulumNTPServer
import PendulumNTS
import PendulumTime

@Suite struct NTSServingTests {
    struct World {
        var random = CountingRandom()
        var keyset: CookieKeyset
        var client: NTSClientAssociation

        init() throws {
            var random = CountingRandom(next: 90)
            let keyset = CookieKeyset.generate(now: 0, random: &random)
            let keys = NTSKeys.derive(exporterSecret: random.bytes(32), hash: .sha256, aead: .aesSIVCMAC256)
            var cookies: [[UInt8]] = []
            for _ in 0..<8 { cookies.append(keyset.mintCookie(aead: .aesSIVCMAC256, keys: keys, random: &random)) }
            self.keyset = keyset
            client = try NTSClientAssociation(aead: .aesSIVCMAC256, keys: keys, cookies: cookies)
        }

        mutating func request() throws -> [UInt8] {
            try client.makeRequest(header: NTPHeader(mode: .client, transmitTimestamp: Fixture.clientTransmit), random: &random)
        }
    }

    @Test func authenticatedRequestGetsAnAuthenticatedAnswerWithCookies() throws {
        var world = try World()
        var core = NTPServerCore(configuration: NTPServerCore.Configuration(rateLimit: nil))
        let request = try world.request()
        let decision = Fixture.decide(&core, request, keyset: world.keyset)
        guard case .respond(let bytes) = decision else { Issue.record("no response: \(decision)"); return }
        #expect(bytes.count <= request.count)
        guard case .authenticated(let header, let newCookies) = world.client.handleResponse(bytes) else { Issue.record("client rejected it"); return }
        #expect(header.originTimestamp == Fixture.clientTransmit)
        #expect(header.transmitTimestamp == Fixture.t3)
        #expect(newCookies >= 1)
        #expect(core.counters.respondedNTS == 1)
    }

    @Test func unknownKeyGetsANakAndAFlippedBitIsDropped() throws {
        var world = try World()
        var core = NTPServerCore(configuration: NTPServerCore.Configuration(rateLimit: nil))
        var otherRandom = CountingRandom(next: 7)
        let otherKeyset = CookieKeyset.generate(now: 0, random: &otherRandom)
        let request = try world.request()
        guard case .ntsNak(let nak) = Fixture.decide(&core, request, keyset: otherKeyset) else { Issue.record("no NAK"); return }
        #expect(nak.count <= request.count)
        #expect(world.client.handleResponse(nak) == .nak)

        var world2 = try World()
        var tampered = try world2.request()
        tampered[tampered.count - 1] ^= 0x01
        #expect(Fixture.decide(&core, tampered, keyset: world2.keyset) == .drop(.ntsInvalid))
        #expect(Fixture.decide(&core, try world2.request(), keyset: nil) == .drop(.ntsUnavailable))
        #expect(core.counters.ntsNaks == 1)
        #expect(core.counters[.ntsInvalid] == 1)
        #expect(core.counters[.ntsUnavailable] == 1)
    }

    @Test func cookiesSurviveARotation() throws {
        var world = try World()
        var core = NTPServerCore(configuration: NTPServerCore.Configuration(rateLimit: nil))
        var rotated = world.keyset
        var random = CountingRandom(next: 200)
        rotated.rotate(now: 86_400, random: &random)
        let decision = Fixture.decide(&core, try world.request(), keyset: rotated)
        #expect(decision.outcome == .responded)
    }

    @Test func ntsRequestsOverTheRateAreDroppedNotKissed() throws {
        var world = try World()
        let limit = RateLimiter.Configuration(minimumIntervalNanoseconds: 1_000_000_000, burst: 1, tableSize: 16)
        var core = NTPServerCore(configuration: NTPServerCore.Configuration(rateLimit: limit))
        #expect(Fixture.decide(&core, try world.request(), keyset: world.keyset).outcome == .responded)
        #expect(Fixture.decide(&core, try world.request(), keyset: world.keyset) == .drop(.rateLimited))
    }
}
