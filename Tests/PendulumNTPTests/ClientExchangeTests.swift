import PendulumTime
import Testing
@testable import PendulumNTP

@Suite struct ClientExchangeTests {
    let exchange = ClientExchange(nonce: 0xDEAD_BEEF_0BAD_CAFE)
    let t1 = NTPTimestamp(seconds: 3_900_000_000, fraction: 0)

    /// A reply the server would send if its clock were `offset` ahead and each way took `oneWay`.
    func reply(offset: NTPDuration, oneWay: NTPDuration, mutate: (inout NTPHeader) -> Void = { _ in }) -> (bytes: [UInt8], t4: NTPTimestamp) {
        let t2 = t1 + oneWay + offset
        let t3 = t2 + .microseconds(5)
        var header = NTPHeader(
            leap: .none, mode: .server, stratum: 2, poll: 6, precision: -20,
            rootDelay: NTPShort(rawValue: 100), rootDispersion: NTPShort(rawValue: 200),
            referenceID: ReferenceID(ipv4: (192, 0, 2, 1)), referenceTimestamp: t2 - .seconds(10),
            originTimestamp: exchange.request.header.transmitTimestamp, receiveTimestamp: t2, transmitTimestamp: t3
        )
        mutate(&header)
        let t4 = t3 - offset + oneWay
        return (NTPPacket(header: header).serialized(), t4)
    }

    @Test func requestIsAClientPacketCarryingTheNonce() throws {
        let parsed = try NTPPacket(parsing: exchange.requestBytes)
        #expect(parsed.header.mode == .client)
        #expect(parsed.header.version == 4)
        #expect(parsed.header.transmitTimestamp.rawValue == 0xDEAD_BEEF_0BAD_CAFE)
        #expect(parsed.header.originTimestamp == .zero && parsed.header.receiveTimestamp == .zero)
        #expect(exchange.requestBytes.count == 48)
    }

    @Test func computesOffsetAndDelayExactly() throws {
        let (bytes, t4) = reply(offset: .milliseconds(-250), oneWay: .microseconds(300))
        let measurement = try exchange.evaluate(reply: bytes, sent: t1, received: t4).get()
        #expect(measurement.offset == .milliseconds(-250))
        #expect(measurement.delay == .microseconds(600))
        #expect(measurement.header.stratum == 2)
    }

    @Test func wrongOriginIsIgnoredNotTrusted() {
        let (bytes, t4) = reply(offset: .seconds(1000), oneWay: .zero) { $0.originTimestamp = NTPTimestamp(rawValue: 1) }
        let result = exchange.evaluate(reply: bytes, sent: t1, received: t4)
        #expect(result == .failure(.originMismatch))
        #expect(ReplyRejection.originMismatch.isIgnorable)
    }

    @Test func kissOfDeathReportsItsCodeOnlyWhenItAnswersUs() {
        let (kiss, t4) = reply(offset: .zero, oneWay: .zero) {
            $0.stratum = 0
            $0.referenceID = .kissRate
        }
        #expect(exchange.evaluate(reply: kiss, sent: t1, received: t4) == .failure(.kissOfDeath(code: "RATE")))
        // A forged KoD (wrong origin) must not make us give up.
        let (forged, _) = reply(offset: .zero, oneWay: .zero) {
            $0.stratum = 0
            $0.referenceID = .kissDeny
            $0.originTimestamp = NTPTimestamp(rawValue: 42)
        }
        #expect(exchange.evaluate(reply: forged, sent: t1, received: t4) == .failure(.originMismatch))
    }

    @Test func unsynchronisedServersAreRefused() {
        let (leap3, t4) = reply(offset: .zero, oneWay: .zero) { $0.leap = .unsynchronized }
        #expect(exchange.evaluate(reply: leap3, sent: t1, received: t4) == .failure(.serverUnsynchronized(leap: .unsynchronized, stratum: 2)))
        let (stratum16, _) = reply(offset: .zero, oneWay: .zero) { $0.stratum = 16 }
        #expect(exchange.evaluate(reply: stratum16, sent: t1, received: t4) == .failure(.serverUnsynchronized(leap: .none, stratum: 16)))
    }

    @Test func nonServerModesAndGarbageAreIgnorable() {
        let (clientMode, t4) = reply(offset: .zero, oneWay: .zero) { $0.mode = .client }
        let result = exchange.evaluate(reply: clientMode, sent: t1, received: t4)
        #expect(result == .failure(.notAServerReply(.client)))
        let truncated = exchange.evaluate(reply: Array(clientMode.prefix(30)), sent: t1, received: t4)
        #expect(truncated == .failure(.malformed(.truncated(length: 30))))
        #expect(ReplyRejection.malformed(.truncated(length: 30)).isIgnorable)
    }

    @Test func bogusServerTimestampsAreRefused() {
        let (zero, t4) = reply(offset: .zero, oneWay: .zero) { $0.receiveTimestamp = .zero }
        #expect(exchange.evaluate(reply: zero, sent: t1, received: t4) == .failure(.missingServerTimestamps))
        let (backwards, _) = reply(offset: .zero, oneWay: .zero) { $0.transmitTimestamp = $0.receiveTimestamp - .milliseconds(1) }
        #expect(exchange.evaluate(reply: backwards, sent: t1, received: t4) == .failure(.serverTransmittedBeforeReceiving))
    }
}
