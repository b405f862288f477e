import Testing
import PendulumNTP
import PendulumNTPServer
import PendulumNTS
import PendulumTime

/// The serving path's decision (request and reply in caller-owned buffers) against the array
/// form, and the fixed-size address type both use.
@Suite struct ServingPathTests {
    static func served(_ core: inout NTPServerCore, _ request: [UInt8], client: ClientAddress, truncated: Bool = false, at nanoseconds: Int64 = 0,
                       replyCapacity: Int = 2048, keyset: CookieKeyset? = nil) -> (ServedRequest, [UInt8]) {
        var random = CountingRandom()
        var reply = [UInt8](repeating: 0, count: replyCapacity)
        let served = request.withUnsafeBytes { requestBytes in
            reply.withUnsafeMutableBytes { replyBytes in
                core.decide(request: requestBytes, truncated: truncated, client: client, receiveTime: Fixture.t2, monotonicNanoseconds: nanoseconds,
                            state: .local(stratum: 3), keyset: keyset, random: &random, reply: replyBytes, transmitTime: { Fixture.t3 })
            }
        }
        return (served, Array(reply.prefix(served.replyLength)))
    }

    /// Every first byte (all modes, versions and leap values), plain and with policies that
    /// kiss: the buffer path writes exactly what the array path returns, and counts the same.
    @Test(arguments: ["open", "deny", "require-nts"])
    func bufferPathMatchesTheArrayPathForEveryFirstByte(policy: String) throws {
        let configuration = switch policy {
        case "deny": NTPServerCore.Configuration(access: AccessPolicy(deny: [try AddressPrefix(parsing: "192.0.2.0/24")]), rateLimit: nil)
        case "require-nts": NTPServerCore.Configuration(rateLimit: nil, requireNTS: true)
        default: NTPServerCore.Configuration(rateLimit: nil)
        }
        var arrayCore = NTPServerCore(configuration: configuration)
        var bufferCore = NTPServerCore(configuration: configuration)
        let client = try #require(ClientAddress(bytes: Fixture.client))
        for first in 0...255 {
            var request = Fixture.request()
            request[0] = UInt8(first)
            let decision = Fixture.decide(&arrayCore, request)
            let (served, reply) = Self.served(&bufferCore, request, client: client)
            #expect(served.outcome == decision.outcome, "first byte \(first)")
            #expect(reply == (decision.reply ?? []), "first byte \(first)")
            #expect(reply.count <= request.count)
        }
        #expect(arrayCore.counters == bufferCore.counters)
        // Mode 3 with versions 1–4 under every leap indicator: 16 first bytes get an answer.
        switch policy {
        case "deny": #expect(bufferCore.counters[kiss: .deny] == 16)
        case "require-nts": #expect(bufferCore.counters[kiss: .restrict] == 16)
        default: #expect(bufferCore.counters.responded == 16)
        }
    }

    @Test func requestsWithExtensionFieldsTakeTheGeneralPathWithTheSameAnswer() throws {
        var arrayCore = NTPServerCore(configuration: NTPServerCore.Configuration(rateLimit: nil))
        var bufferCore = NTPServerCore(configuration: NTPServerCore.Configuration(rateLimit: nil))
        let client = try #require(ClientAddress(bytes: Fixture.client))
        var field: [UInt8] = []
        ExtensionField(type: 0x2000, value: [UInt8](repeating: 7, count: 12)).write(to: &field)
        let request = Fixture.request(extraBytes: field)
        let decision = Fixture.decide(&arrayCore, request)
        let (served, reply) = Self.served(&bufferCore, request, client: client)
        #expect(served.outcome == .responded)
        #expect(reply == decision.reply)
    }

    @Test func truncatedDatagramsAreOversizedAndGetNothing() throws {
        var core = NTPServerCore(configuration: NTPServerCore.Configuration(rateLimit: nil))
        let (served, reply) = Self.served(&core, Fixture.request(), client: try #require(ClientAddress(bytes: Fixture.client)), truncated: true)
        #expect(served == ServedRequest(outcome: .dropped(.oversized), replyLength: 0))
        #expect(reply.isEmpty)
        #expect(core.counters[.oversized] == 1)
    }

    @Test func aReplyThatDoesNotFitIsNotSent() throws {
        var core = NTPServerCore(configuration: NTPServerCore.Configuration(rateLimit: nil))
        let (served, _) = Self.served(&core, Fixture.request(), client: try #require(ClientAddress(bytes: Fixture.client)), replyCapacity: 47)
        #expect(served.replyLength == 0)
        #expect(core.counters.responded == 0)
    }

    /// A million distinct sources (half IPv4, half IPv6) through the serving path: the rate
    /// table keeps its size, so memory cannot grow with the number of clients.
    @Test func aMillionDistinctClientsDoNotGrowTheRateTable() throws {
        var core = NTPServerCore(configuration: NTPServerCore.Configuration(rateLimit: RateLimiter.Configuration(tableSize: 1 << 12)))
        let before = core.rateLimitSlotCount
        var random = CountingRandom()
        var reply = [UInt8](repeating: 0, count: 64)
        let request = Fixture.request()
        var responded = 0
        request.withUnsafeBytes { requestBytes in
            reply.withUnsafeMutableBytes { replyBytes in
                for index in 0..<1_000_000 {
                    let value = UInt64(index)
                    let client = index.isMultiple(of: 2)
                        ? ClientAddress(high: 0, low: 0x0A00_0000 | value, isIPv4: true)
                        : ClientAddress(ipv6High: 0x2001_0DB8_0000_0000, low: value)
                    let served = core.decide(request: requestBytes, truncated: false, client: client, receiveTime: Fixture.t2,
                                             monotonicNanoseconds: Int64(index), state: .local(stratum: 3), keyset: nil, random: &random,
                                             reply: replyBytes, transmitTime: { Fixture.t3 })
                    if served.outcome == .responded { responded += 1 }
                }
            }
        }
        #expect(core.rateLimitSlotCount == before)
        #expect(responded == 1_000_000)
        #expect(core.counters.total == 1_000_000)
    }

    @Test func mappedIPv6IsTheSameClientAsIPv4() throws {
        let v4 = try #require(ClientAddress(bytes: [192, 0, 2, 7]))
        let mapped = try #require(ClientAddress(bytes: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 192, 0, 2, 7]))
        #expect(v4 == mapped)
        #expect(v4.bytes == [192, 0, 2, 7])
        #expect(ClientAddress(bytes: [1, 2, 3]) == nil)
    }

    /// The word-based prefix match agrees with the byte-based one on addresses around each
    /// prefix's boundaries.
    @Test func wordPrefixMatchAgreesWithBytes() throws {
        let prefixes = try ["0.0.0.0/0", "10.0.0.0/8", "192.0.2.128/25", "192.0.2.7/32", "::/0", "2001:db8::/32", "2001:db8:0:1::/64",
                            "2001:db8::1/128", "2001:db8::/65", "fe80::/10"].map { try AddressPrefix(parsing: $0) }
        var candidates: [[UInt8]] = [[10, 1, 2, 3], [11, 0, 0, 0], [192, 0, 2, 127], [192, 0, 2, 128], [192, 0, 2, 7], [0, 0, 0, 0]]
        var v6: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 12)
        candidates.append(v6)
        v6[15] = 1
        candidates.append(v6)
        v6[8] = 0x80
        candidates.append(v6)
        v6[7] = 1
        candidates.append(v6)
        candidates.append([0xfe, 0xbf] + [UInt8](repeating: 0xff, count: 14))
        candidates.append([0xfe, 0xc0] + [UInt8](repeating: 0, count: 14))
        for prefix in prefixes {
            for candidate in candidates {
                let address = try #require(ClientAddress(bytes: candidate))
                #expect(prefix.contains(address) == prefix.contains(candidate), "\(prefix) \(candidate)")
            }
        }
    }
}

/// Interleaved mode (RFC 9769) in the core: the transmit time of an earlier response is
/// returned to a request whose origin is that response's receive timestamp.
@Suite struct InterleavedModeTests {
    static func request(origin: UInt64, receive: UInt64, transmit: UInt64) -> [UInt8] {
        var bytes: [UInt8] = []
        NTPHeader(version: 4, mode: .client, originTimestamp: NTPTimestamp(rawValue: origin),
                  receiveTimestamp: NTPTimestamp(rawValue: receive), transmitTimestamp: NTPTimestamp(rawValue: transmit)).write(to: &bytes)
        return bytes
    }

    @Test func anInterleavedRequestGetsThePreviousTransmitTime() throws {
        var core = NTPServerCore(configuration: NTPServerCore.Configuration(rateLimit: nil))
        let client = try #require(ClientAddress(bytes: Fixture.client))
        // First exchange, basic: the client sends origin 0... then an interleaved-capable
        // request whose origin is unknown to the server: a basic answer, timestamp wanted.
        let (first, firstReply) = ServingPathTests.served(&core, Self.request(origin: 0x1111, receive: 0x2222, transmit: 0x3333), client: client)
        #expect(first.wantsTransmitTimestamp)
        #expect(!first.isInterleaved)
        let firstHeader = try NTPPacket(parsing: firstReply).header
        #expect(firstHeader.originTimestamp.rawValue == 0x3333)
        #expect(firstHeader.receiveTimestamp == Fixture.t2)
        // The kernel says when that reply left.
        let sentAt = NTPTimestamp(rawValue: Fixture.t2.rawValue + 5000)
        core.recordTransmit(ofResponseWithReceive: firstHeader.receiveTimestamp, at: sentAt)
        // Next request: origin = the server's receive timestamp, receive = when the client got the reply.
        let (second, secondReply) = ServingPathTests.served(&core, Self.request(origin: Fixture.t2.rawValue, receive: 0x4444, transmit: 0x5555), client: client)
        #expect(second.isInterleaved)
        #expect(second.wantsTransmitTimestamp)
        let secondHeader = try NTPPacket(parsing: secondReply).header
        #expect(secondHeader.originTimestamp.rawValue == 0x4444)
        #expect(secondHeader.transmitTimestamp == sentAt)
        #expect(secondHeader.receiveTimestamp == Fixture.t2)
        #expect(core.counters.respondedInterleaved == 1)
        #expect(core.counters.responded == 2)
    }

    /// A plain request with extension fields the server does not act on is answered with a
    /// header like any other, interleaved included.
    @Test func extensionFieldsDoNotPreventInterleavedMode() throws {
        var core = NTPServerCore(configuration: NTPServerCore.Configuration(rateLimit: nil))
        let client = try #require(ClientAddress(bytes: Fixture.client))
        var field: [UInt8] = []
        ExtensionField(type: 0x2005, value: [UInt8](repeating: 0xAB, count: 12)).write(to: &field)
        let first = Self.request(origin: 0x1111, receive: 0x2222, transmit: 0x3333) + field
        let (basic, basicReply) = ServingPathTests.served(&core, first, client: client)
        #expect(basic.outcome == .responded && basic.wantsTransmitTimestamp && !basic.isInterleaved)
        #expect(basicReply.count == NTPHeader.byteCount)
        let sentAt = NTPTimestamp(rawValue: Fixture.t2.rawValue + 3000)
        core.recordTransmit(ofResponseWithReceive: Fixture.t2, at: sentAt)
        let second = Self.request(origin: Fixture.t2.rawValue, receive: 0x4444, transmit: 0x5555) + field
        let (interleaved, interleavedReply) = ServingPathTests.served(&core, second, client: client)
        #expect(interleaved.isInterleaved && interleaved.wantsTransmitTimestamp)
        let header = try NTPPacket(parsing: interleavedReply).header
        #expect(header.originTimestamp.rawValue == 0x4444)
        #expect(header.transmitTimestamp == sentAt)
        #expect(core.counters.respondedInterleaved == 1)
    }

    @Test func basicClientsNeverLookInterleaved() throws {
        var core = NTPServerCore(configuration: NTPServerCore.Configuration(rateLimit: nil))
        let client = try #require(ClientAddress(bytes: Fixture.client))
        core.recordTransmit(ofResponseWithReceive: NTPTimestamp(rawValue: 0x7777), at: NTPTimestamp(rawValue: 0x8888))
        // Origin zero (most clients), or equal to the transmit field: basic, no timestamp needed.
        let (zero, _) = ServingPathTests.served(&core, Self.request(origin: 0, receive: 0, transmit: 0x7777), client: client)
        #expect(!zero.isInterleaved && !zero.wantsTransmitTimestamp)
        let (same, _) = ServingPathTests.served(&core, Self.request(origin: 0x7777, receive: 0, transmit: 0x7777), client: client)
        #expect(!same.isInterleaved && !same.wantsTransmitTimestamp)
        // Turned off: never interleaved.
        var off = NTPServerCore(configuration: NTPServerCore.Configuration(rateLimit: nil, interleavedTableSize: 0))
        off.recordTransmit(ofResponseWithReceive: NTPTimestamp(rawValue: 0x7777), at: NTPTimestamp(rawValue: 0x8888))
        let (disabled, _) = ServingPathTests.served(&off, Self.request(origin: 0x7777, receive: 1, transmit: 2), client: client)
        #expect(!disabled.isInterleaved && !disabled.wantsTransmitTimestamp)
    }

    @Test func theTableKeepsItsSize() {
        var table = InterleavedTable(capacity: 1000)
        let capacity = table.capacity
        for index in 1...100_000 { table.record(receive: NTPTimestamp(rawValue: UInt64(index) << 20), transmit: NTPTimestamp(rawValue: UInt64(index))) }
        #expect(table.capacity == capacity)
        #expect(table.transmit(forReceive: NTPTimestamp(rawValue: 100_000 << 20)) == NTPTimestamp(rawValue: 100_000))
        #expect(table.transmit(forReceive: NTPTimestamp(rawValue: 0)) == nil)
    }
}
