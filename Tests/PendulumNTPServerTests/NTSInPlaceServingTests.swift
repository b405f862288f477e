import Testing
import PendulumNTP
import PendulumNTPServer
import PendulumNTS
import PendulumTime

/// The serving path answers NTS requests in its buffers (`NTSServerHandler.answerInPlace`);
/// the array path through `authenticate` and `response` is the reference. For every request
/// shape here, well-formed or not, both must count the same class and send the same bytes.
@Suite struct NTSInPlaceServingTests {
    /// A client's view: its keys, and requests built field by field so every shape can be made.
    struct Client {
        var keyset: CookieKeyset
        var aead: AEADAlgorithm
        var keys: NTSKeys
        var cookie: [UInt8]

        init(aead: AEADAlgorithm = .aesSIVCMAC256, keyset: CookieKeyset? = nil) {
            var random = CountingRandom(next: 90)
            self.keyset = keyset ?? CookieKeyset.generate(now: 0, random: &random)
            self.aead = aead
            keys = NTSKeys(c2s: random.bytes(aead.keyByteCount), s2c: random.bytes(aead.keyByteCount))
            cookie = self.keyset.mintCookie(aead: aead, keys: keys, random: &random)
        }

        static func field(_ type: UInt16, _ value: [UInt8]) -> [UInt8] {
            var bytes: [UInt8] = []
            ExtensionField(type: type, value: value).write(to: &bytes)
            return bytes
        }

        /// header ‖ `before` ‖ authenticator(nonce, seal(`encrypted`)) ‖ `after`.
        func request(before: [UInt8], encrypted: [UInt8] = [], nonce: [UInt8] = [UInt8](repeating: 0x5A, count: 16), after: [UInt8] = [],
                     version: UInt8 = 4, origin: UInt64 = 0, receive: UInt64 = 0) throws -> [UInt8] {
            var bytes: [UInt8] = []
            NTPHeader(version: version, mode: .client, poll: 5, originTimestamp: NTPTimestamp(rawValue: origin),
                      receiveTimestamp: NTPTimestamp(rawValue: receive), transmitTimestamp: Fixture.clientTransmit).write(to: &bytes)
            bytes += before
            let sealed = try AESSIV(algorithm: aead, key: keys.c2s).seal(encrypted, nonce: nonce, associatedData: bytes)
            var body: [UInt8] = []
            body.append(UInt8(nonce.count >> 8)); body.append(UInt8(nonce.count & 0xFF))
            body.append(UInt8(sealed.count >> 8)); body.append(UInt8(sealed.count & 0xFF))
            body += nonce + [UInt8](repeating: 0, count: (4 - nonce.count % 4) % 4) + sealed
            return bytes + Self.field(ExtensionFieldType.ntsAuthenticator, body) + after
        }

        var uniqueIdentifier: [UInt8] { Self.field(ExtensionFieldType.ntsUniqueIdentifier, [UInt8](repeating: 0xC3, count: 32)) }
        var cookieField: [UInt8] { Self.field(ExtensionFieldType.ntsCookie, cookie) }
        func placeholders(_ count: Int) -> [UInt8] {
            (0..<count).flatMap { _ in Self.field(ExtensionFieldType.ntsCookiePlaceholder, [UInt8](repeating: 0, count: cookie.count)) }
        }
    }

    /// Every shape, with the reason it exists.
    static func shapes() throws -> [(String, [UInt8], CookieKeyset?)] {
        let client = Client()
        let keyset = client.keyset
        var random = CountingRandom(next: 3)
        let strangers = CookieKeyset.generate(now: 0, random: &random)
        var rotated = keyset
        rotated.rotate(now: 86_400, random: &random)
        let wide = Client(aead: .aesSIVCMAC512, keyset: keyset)
        let uid = client.uniqueIdentifier
        let cookie = client.cookieField
        var shapes: [(String, [UInt8], CookieKeyset?)] = [
            ("plain NTS request", try client.request(before: uid + cookie), keyset),
            ("one placeholder", try client.request(before: uid + cookie + client.placeholders(1)), keyset),
            ("ten placeholders (seven honoured)", try client.request(before: uid + cookie + client.placeholders(10)), keyset),
            ("placeholders inside the authenticator", try client.request(before: uid + cookie, encrypted: client.placeholders(2)), keyset),
            ("cookie sealed by a stale key", try client.request(before: uid + cookie), rotated),
            ("cookie of a keyset we never had: NAK", try client.request(before: uid + cookie), strangers),
            ("AEAD 17 association (general path)", try wide.request(before: uid + wide.cookieField), keyset),
            ("no keyset", try client.request(before: uid + cookie), nil),
            ("no unique identifier before the authenticator", try client.request(before: cookie, after: uid), keyset),
            ("no cookie", try client.request(before: uid), keyset),
            ("two cookies", try client.request(before: uid + cookie + cookie), keyset),
            ("one-byte nonce: no room for a cookie", try client.request(before: uid + cookie, nonce: [7]), keyset),
            ("unknown field before the authenticator", try client.request(before: Client.field(0x2005, [1, 2, 3, 4]) + uid + cookie), keyset),
            ("field after the authenticator is ignored", try client.request(before: uid + cookie, after: Client.field(0x2005, [UInt8](repeating: 9, count: 12))), keyset),
            ("encrypted part not extension fields", try client.request(before: uid + cookie, encrypted: [1, 2, 3, 4, 5, 6, 7, 8]), keyset),
            ("legacy MAC after the authenticator (general path)", try client.request(before: uid + cookie, after: [UInt8](repeating: 1, count: 20)), keyset),
            ("version 3 with extension fields", try client.request(before: uid + cookie, version: 3), keyset),
        ]
        // Missing authenticator: only the fields.
        shapes.append(("no authenticator", Fixture.request() + uid + cookie, keyset))
        // A cookie of the wrong length, and one cut short: NAK, the cookie cannot be ours.
        var short = client
        short.cookie = Array(client.cookie.prefix(100))
        shapes.append(("cookie of the wrong length", try short.request(before: uid + short.cookieField), keyset))
        var tiny = client
        tiny.cookie = Array(client.cookie.prefix(12))
        shapes.append(("cookie shorter than its header", try tiny.request(before: uid + tiny.cookieField), keyset))
        // A cookie whose sealed AEAD id is unknown: minted by hand under the real key.
        // Tampering, byte by byte through the regions that matter.
        let good = try client.request(before: uid + cookie)
        for index in [0, 1, 40, 48, 60, 84 + 8, 84 + 50, good.count - 40, good.count - 20, good.count - 1] {
            var tampered = good
            tampered[index] ^= 0x01
            shapes.append(("bit flipped at \(index)", tampered, keyset))
        }
        // Authenticator with a zero nonce length, and one whose ciphertext overruns it.
        var noNonce = good
        noNonce[good.count - 40 + 4] = 0
        noNonce[good.count - 40 + 5] = 0
        shapes.append(("authenticator with no nonce", noNonce, keyset))
        var overrun = good
        overrun[good.count - 40 + 7] = 0xF0
        shapes.append(("ciphertext longer than the authenticator", overrun, keyset))
        // Field bombs: hundreds of minimal fields before the authenticator.
        let bomb = (0..<120).flatMap { _ in Client.field(0x2005, [UInt8](repeating: 0, count: 12)) }
        shapes.append(("120 tiny fields then a valid request", try client.request(before: bomb + uid + cookie), keyset))
        return shapes
    }

    @Test func theInPlaceAnswerIsTheGeneralPathsAnswer() throws {
        let client = try #require(ClientAddress(bytes: Fixture.client))
        var arrayCore = NTPServerCore(configuration: NTPServerCore.Configuration(rateLimit: nil))
        var bufferCore = NTPServerCore(configuration: NTPServerCore.Configuration(rateLimit: nil))
        for (name, request, keyset) in try Self.shapes() {
            let decision = Fixture.decide(&arrayCore, request, keyset: keyset)
            let (served, reply) = ServingPathTests.served(&bufferCore, request, client: client, keyset: keyset)
            #expect(served.outcome == decision.outcome, "\(name)")
            #expect(reply == (decision.reply ?? []), "\(name)")
            #expect(reply.count <= request.count, "\(name)")
        }
        #expect(arrayCore.counters == bufferCore.counters)
        #expect(bufferCore.counters.respondedNTS >= 8)
        #expect(bufferCore.counters.ntsNaks >= 3)
    }

    /// The shapes the fast path is for are really answered in place, not handed back.
    @Test func wellFormedAEAD15RequestsAreAnsweredInPlace() throws {
        try #require(AESSIV.usesHardwareAES, "no AES instructions: every request takes the general path")
        let client = Client()
        for request in [try client.request(before: client.uniqueIdentifier + client.cookieField),
                        try client.request(before: client.uniqueIdentifier + client.cookieField + client.placeholders(3))] {
            var random = CountingRandom()
            var reply = [UInt8](repeating: 0, count: 2048)
            let outcome = request.withUnsafeBytes { requestBytes in
                reply.withUnsafeMutableBytes { replyBytes -> NTSInPlaceOutcome in
                    guard let layout = NTSRequestLayout(request: requestBytes) else { return .declined }
                    return NTSServerHandler.answerInPlace(
                        request: requestBytes, layout: layout, keyset: client.keyset, random: &random, reply: replyBytes,
                        responseHeader: { NTPHeader(mode: .server, transmitTimestamp: Fixture.t3) }, nakTransmitTime: { Fixture.t3 }
                    )
                }
            }
            guard case .responded(let length) = outcome else { Issue.record("not answered in place: \(outcome)"); continue }
            #expect(length <= request.count)
            // The client's own check of the answer: its S2C key opens it.
            let packet = try NTSPacket(parsing: Array(reply.prefix(length)))
            let authenticator = try #require(packet.authenticator)
            let opened = try AESSIV(algorithm: .aesSIVCMAC256, key: client.keys.s2c)
                .open(authenticator.ciphertext, nonce: authenticator.nonce, associatedData: packet.authenticatedBytes)
            #expect(opened.count % 108 == 0 && !opened.isEmpty)
        }
    }

    @Test func rateLimitedNTSRequestsAreDroppedAlikeOnBothPaths() throws {
        let client = Client()
        let request = try client.request(before: client.uniqueIdentifier + client.cookieField)
        let limit = RateLimiter.Configuration(minimumIntervalNanoseconds: 1_000_000_000, burst: 1, tableSize: 16)
        var arrayCore = NTPServerCore(configuration: NTPServerCore.Configuration(rateLimit: limit))
        var bufferCore = NTPServerCore(configuration: NTPServerCore.Configuration(rateLimit: limit))
        let address = try #require(ClientAddress(bytes: Fixture.client))
        for round in 0..<3 {
            let decision = Fixture.decide(&arrayCore, request, at: Int64(round), keyset: client.keyset)
            let (served, _) = ServingPathTests.served(&bufferCore, request, client: address, at: Int64(round), keyset: client.keyset)
            #expect(served.outcome == decision.outcome)
        }
        #expect(bufferCore.counters[.rateLimited] == 2)
        #expect(arrayCore.counters == bufferCore.counters)
    }

    /// RFC 9769 over NTS: a request whose origin is the receive timestamp of an earlier answer
    /// gets that answer's real transmit time, authenticated like any other answer, and both
    /// paths agree on it. AEAD 17 is answered by the general path inside the serving path, and
    /// must still ask for the transmit timestamp and say the answer is interleaved.
    @Test(arguments: [AEADAlgorithm.aesSIVCMAC256, .aesSIVCMAC512])
    func interleavedNTSRequestsGetThePreviousTransmitTime(aead: AEADAlgorithm) throws {
        let client = Client(aead: aead)
        let address = try #require(ClientAddress(bytes: Fixture.client))
        var arrayCore = NTPServerCore(configuration: NTPServerCore.Configuration(rateLimit: nil))
        var bufferCore = NTPServerCore(configuration: NTPServerCore.Configuration(rateLimit: nil))
        // First exchange: the client may be interleaved (origin non-zero, not its transmit time).
        let first = try client.request(before: client.uniqueIdentifier + client.cookieField, origin: 0x1111, receive: 0x2222)
        let (served, reply) = ServingPathTests.served(&bufferCore, first, client: address, keyset: client.keyset)
        #expect(served.outcome == .responded && served.wantsTransmitTimestamp && !served.isInterleaved)
        #expect(try NTPPacket(parsing: reply).header.receiveTimestamp == Fixture.t2)
        let sentAt = NTPTimestamp(rawValue: Fixture.t2.rawValue + 7000)
        bufferCore.recordTransmit(ofResponseWithReceive: Fixture.t2, at: sentAt)
        arrayCore.recordTransmit(ofResponseWithReceive: Fixture.t2, at: sentAt)
        // Second: origin = the server's receive timestamp of the first answer.
        let second = try client.request(before: client.uniqueIdentifier + client.cookieField, origin: Fixture.t2.rawValue, receive: 0x4444)
        let decision = Fixture.decide(&arrayCore, second, keyset: client.keyset)
        let (interleaved, interleavedReply) = ServingPathTests.served(&bufferCore, second, client: address, keyset: client.keyset)
        #expect(interleaved.isInterleaved && interleaved.wantsTransmitTimestamp)
        #expect(interleavedReply == decision.reply)
        let packet = try NTSPacket(parsing: interleavedReply)
        #expect(packet.header.originTimestamp.rawValue == 0x4444)
        #expect(packet.header.transmitTimestamp == sentAt)
        let authenticator = try #require(packet.authenticator)
        _ = try AESSIV(algorithm: aead, key: client.keys.s2c)
            .open(authenticator.ciphertext, nonce: authenticator.nonce, associatedData: packet.authenticatedBytes)
        #expect(bufferCore.counters.respondedInterleaved == 1)
        #expect(arrayCore.counters.respondedInterleaved == 1)
    }
}
