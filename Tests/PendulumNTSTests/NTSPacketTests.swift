import Testing
import PendulumNTP
import PendulumTime
@testable import PendulumNTS

@Suite struct NTSPacketTests {
    struct World {
        var random: SeededRandom
        var keyset: CookieKeyset
        var client: NTSClientAssociation
        let keys: NTSKeys

        init(aead: AEADAlgorithm = .aesSIVCMAC256, seed: UInt64 = 7) throws {
            self.random = SeededRandom(seed: seed &* 31)
            var random = SeededRandom(seed: seed)
            let keyset = CookieKeyset.generate(now: 0, random: &random)
            let keys = NTSKeys.derive(exporterSecret: random.bytes(32), hash: .sha256, aead: aead)
            var cookies: [[UInt8]] = []
            for _ in 0..<8 { cookies.append(keyset.mintCookie(aead: aead, keys: keys, random: &random)) }
            self.keyset = keyset
            self.keys = keys
            client = try NTSClientAssociation(aead: aead, keys: keys, cookies: cookies)
        }

        let requestHeader = NTPHeader(mode: .client, transmitTimestamp: NTPTimestamp(rawValue: 0x1234_5678_9ABC_DEF0))

        func serverHeader(for request: NTPHeader) -> NTPHeader {
            NTPHeader(mode: .server, stratum: 2, referenceID: ReferenceID(ascii: "GPS"), originTimestamp: request.transmitTimestamp,
                      receiveTimestamp: NTPTimestamp(rawValue: 1), transmitTimestamp: NTPTimestamp(rawValue: 2))
        }

        /// One full exchange; returns request and response bytes.
        mutating func exchange() throws -> (request: [UInt8], response: [UInt8]) {
            let request = try client.makeRequest(header: requestHeader, random: &random)
            guard case .respond(let authenticated) = NTSServerHandler.authenticate(request, keyset: keyset) else {
                throw NTSServerRejection.authenticationFailed
            }
            let response = NTSServerHandler.response(header: serverHeader(for: authenticated.header), to: authenticated, keyset: keyset, random: &random)
            return (request, response)
        }
    }

    @Test func requestLayoutIsUIDCookiePlaceholdersAuthenticator() throws {
        var world = try World()
        var random = SeededRandom(seed: 1)
        let request = try world.client.makeRequest(header: world.requestHeader, random: &random)
        let packet = try NTSPacket(parsing: request)
        // Seven cookies left after this one: one placeholder brings the jar back to eight.
        #expect(packet.fields.map(\.type) == [0x0104, 0x0204, 0x0304])
        #expect(packet.fields[0].value.count == 32)
        #expect(packet.authenticator?.nonce.count == 16)
        #expect(packet.authenticator?.ciphertext.count == 16)
        let second = try NTSPacket(parsing: try world.client.makeRequest(header: world.requestHeader, random: &random))
        #expect(second.fields.map(\.type) == [0x0104, 0x0204, 0x0304, 0x0304])
        #expect(second.fields[0].value != packet.fields[0].value)
        #expect(second.fields[2].value.count == second.fields[1].value.count)
    }

    @Test func fullExchangeAuthenticatesAndRefillsTheJar() throws {
        for aead in AEADAlgorithm.allCases {
            var world = try World(aead: aead)
            for round in 0..<20 {
                let (request, response) = try world.exchange()
                #expect(response.count <= request.count, "no amplification")
                let outcome = world.client.handleResponse(response)
                guard case .authenticated(let header, let newCookies) = outcome else {
                    Issue.record("round \(round): \(outcome)"); return
                }
                #expect(header.stratum == 2)
                #expect(newCookies >= 1)
                #expect(world.client.jar.count == 8)
            }
        }
    }

    @Test func everySingleBitFlipOfAResponseIsRejected() throws {
        var world = try World()
        let (_, response) = try world.exchange()
        var snapshot = world.client
        for bit in 0..<(response.count * 8) {
            var tampered = response
            tampered[bit / 8] ^= 1 << (bit % 8)
            var client = snapshot
            if case .authenticated = client.handleResponse(tampered) {
                Issue.record("bit \(bit) flipped and still accepted")
            }
        }
        if case .authenticated = snapshot.handleResponse(response) {} else { Issue.record("untampered response rejected") }
    }

    @Test func wrongUIDAndReplayAreIgnored() throws {
        var world = try World()
        let (_, response) = try world.exchange()
        var otherWorld = try World(seed: 8)
        _ = try otherWorld.client.makeRequest(header: otherWorld.requestHeader, random: &otherWorld.random)
        #expect(otherWorld.client.handleResponse(response) == .ignored(.unknownUniqueIdentifier))
        guard case .authenticated = world.client.handleResponse(response) else { Issue.record("genuine response rejected"); return }
        #expect(world.client.handleResponse(response) == .ignored(.unknownUniqueIdentifier), "a replay is ignored")
    }

    @Test func bytesAfterTheAuthenticatorAreIgnored() throws {
        var world = try World()
        var request = try world.client.makeRequest(header: world.requestHeader, random: &world.random)
        request += [0xDE, 0xAD]
        guard case .respond(let authenticated) = NTSServerHandler.authenticate(request, keyset: world.keyset) else {
            Issue.record("trailing bytes broke the request"); return
        }
        var response = NTSServerHandler.response(header: world.serverHeader(for: authenticated.header), to: authenticated, keyset: world.keyset, random: &world.random)
        // Not even a well-formed field: it is after the authenticator, so it does not matter.
        response += [0x02, 0x04, 0xFF, 0xFF, 0x01]
        guard case .authenticated = world.client.handleResponse(response) else { Issue.record("trailing bytes broke the response"); return }
    }

    @Test func unknownKeyOrForgedCookieGetsANakTheClientHonours() throws {
        var world = try World()
        var random = SeededRandom(seed: 5)
        let request = try world.client.makeRequest(header: world.requestHeader, random: &random)
        let otherServer = CookieKeyset.generate(now: 0, random: &random)
        guard case .nak(let header, let uid) = NTSServerHandler.authenticate(request, keyset: otherServer) else {
            Issue.record("unknown key not NAKed"); return
        }
        let nak = NTSServerHandler.nak(respondingTo: header, uniqueIdentifier: uid, transmit: NTPTimestamp(rawValue: 5))
        let parsed = try NTSPacket(parsing: nak)
        #expect(parsed.header.isKissOfDeath && parsed.header.referenceID == .kissNTSNak && parsed.authenticator == nil)
        #expect(nak.count <= request.count)
        var stranger = try World(seed: 9)
        _ = try stranger.client.makeRequest(header: stranger.requestHeader, random: &random)
        #expect(stranger.client.handleResponse(nak) == .ignored(.unknownUniqueIdentifier), "a NAK for someone else's UID is ignored")
        #expect(world.client.handleResponse(nak) == .nak)
        #expect(world.client.needsKeyExchange && world.client.jar.isEmpty)
        #expect(throws: NTSClientError.noCookies) { try world.client.makeRequest(header: world.requestHeader, random: &random) }
    }

    @Test func serverDropsWhatItCannotAuthenticate() throws {
        var world = try World()
        let request = try world.client.makeRequest(header: world.requestHeader, random: &world.random)
        // Flip a bit of the header: the cookie is fine, the authenticator is not.
        var tampered = request
        tampered[47] ^= 1
        #expect(NTSServerHandler.authenticate(tampered, keyset: world.keyset) == .drop(.authenticationFailed))
        var plain: [UInt8] = []
        world.requestHeader.write(to: &plain)
        #expect(NTSServerHandler.authenticate(plain, keyset: world.keyset) == .drop(.missingUniqueIdentifier))
        #expect(NTSServerHandler.authenticate([1, 2, 3], keyset: world.keyset) == .drop(.malformed(.header(.truncated(length: 3)))))
        // A cookie field whose bytes were altered: the server cannot open it and NAKs.
        let packet = try NTSPacket(parsing: request)
        let cookieOffset = 48 + 36 + 4
        var badCookie = request
        badCookie[cookieOffset + 30] ^= 1
        if case .nak = NTSServerHandler.authenticate(badCookie, keyset: world.keyset) {} else { Issue.record("bad cookie not NAKed") }
        #expect(packet.fields[1].type == ExtensionFieldType.ntsCookie)
    }

    @Test func responseShrinksCookiesToFitTheRequest() throws {
        var world = try World()
        var random = SeededRandom(seed: 8)
        let request = try world.client.makeRequest(header: world.requestHeader, random: &random)
        guard case .respond(var authenticated) = NTSServerHandler.authenticate(request, keyset: world.keyset) else { return }
        authenticated.cookiesWanted = 8
        let response = NTSServerHandler.response(header: world.serverHeader(for: authenticated.header), to: authenticated, keyset: world.keyset, random: &random)
        #expect(response.count <= request.count)
    }

    @Test func cookieJarUsesEachCookieOnce() {
        var jar = NTSCookieJar(cookies: (0..<10).map { [UInt8($0)] })
        #expect(jar.count == 8)
        #expect(jar.placeholdersWanted == 0)
        var seen: [[UInt8]] = []
        while let cookie = jar.take() { seen.append(cookie) }
        #expect(seen == (2..<10).map { [UInt8($0)] })
        #expect(jar.placeholdersWanted == 7)
    }

    @Test func malformedPacketsAreTypedErrors() {
        var header: [UInt8] = []
        NTPHeader(mode: .server).write(to: &header)
        #expect(throws: NTSPacketError.fieldHeaderTruncated(offset: 48, available: 2)) { try NTSPacket(parsing: header + [1, 4]) }
        #expect(throws: NTSPacketError.fieldLengthInvalid(offset: 48, length: 6)) { try NTSPacket(parsing: header + [1, 4, 0, 6, 0, 0, 0, 0]) }
        #expect(throws: NTSPacketError.fieldOverrunsPacket(offset: 48, length: 8, available: 4)) { try NTSPacket(parsing: header + [1, 4, 0, 8]) }
        #expect(throws: NTSPacketError.authenticatorMalformed(nonceLength: 16, ciphertextLength: 16, bodyLength: 20)) {
            try NTSPacket(parsing: header + [4, 4, 0, 24, 0, 16, 0, 16] + [UInt8](repeating: 0, count: 16))
        }
    }
}
