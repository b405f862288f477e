import PendulumTime
import Testing

@testable import PendulumNTP

/// Interleaved client mode (RFC 9769): the request names the previous exchange, an interleaved
/// answer completes that exchange with the server's real transmit time, and a basic answer
/// still counts as a basic one.
@Suite struct InterleavedClientExchangeTests {
    let base = NTPTimestamp(seconds: 3_900_000_000, fraction: 0)
    var previous: InterleavedPrevious {
        InterleavedPrevious(sent: base, serverReceive: base + .microseconds(40), received: base + .microseconds(100))
    }
    let nonce: UInt64 = 0x1111_2222_3333_4444
    let interleavedNonce: UInt64 = 0x5555_6666_7777_8888

    func answer(origin: UInt64, receive: NTPTimestamp, transmit: NTPTimestamp) -> [UInt8] {
        NTPPacket(header: NTPHeader(
            leap: .none, mode: .server, stratum: 2, referenceID: ReferenceID(ipv4: (192, 0, 2, 1)),
            originTimestamp: NTPTimestamp(rawValue: origin), receiveTimestamp: receive, transmitTimestamp: transmit
        )).serialized()
    }

    @Test func theRequestNamesThePreviousExchangeAndCarriesASecondNonce() throws {
        let exchange = ClientExchange(nonce: nonce, previous: previous, interleavedNonce: interleavedNonce)
        let header = try NTPPacket(parsing: exchange.requestBytes).header
        #expect(header.originTimestamp == previous.serverReceive)
        #expect(header.receiveTimestamp.rawValue == interleavedNonce)
        #expect(header.transmitTimestamp.rawValue == nonce)
    }

    @Test func withoutAUsablePreviousExchangeTheRequestIsBasic() throws {
        for exchange in [
            ClientExchange(nonce: nonce),
            ClientExchange(nonce: nonce, previous: previous, interleavedNonce: 0),
            ClientExchange(nonce: nonce, previous: previous, interleavedNonce: nonce),
            ClientExchange(nonce: nonce, previous: InterleavedPrevious(sent: base, serverReceive: .zero, received: base), interleavedNonce: 7),
        ] {
            let header = try NTPPacket(parsing: exchange.requestBytes).header
            #expect(header.originTimestamp == .zero && header.receiveTimestamp == .zero)
            #expect(exchange.previous == nil)
        }
    }

    /// The server's previous answer really left 30 µs after it received the request (its
    /// software timestamp had said 5 µs): the measurement is of the previous exchange, with
    /// that transmit time, and this exchange is kept for the next request.
    @Test func anInterleavedAnswerCompletesThePreviousExchange() throws {
        let exchange = ClientExchange(nonce: nonce, previous: previous, interleavedNonce: interleavedNonce)
        let sent = base + .seconds(1)
        let received = sent + .microseconds(100)
        let bytes = answer(origin: interleavedNonce, receive: sent + .microseconds(40), transmit: previous.serverReceive + .microseconds(30))
        let measurement = try exchange.evaluate(reply: bytes, sent: sent, received: received).get()
        #expect(measurement.isInterleaved)
        #expect(measurement.t1 == previous.sent && measurement.t2 == previous.serverReceive && measurement.t4 == previous.received)
        #expect(measurement.t3 == previous.serverReceive + .microseconds(30))
        #expect(measurement.delay == .microseconds(70))
        #expect(measurement.following == InterleavedPrevious(sent: sent, serverReceive: sent + .microseconds(40), received: received))
    }

    @Test func aBasicAnswerToAnInterleavedRequestIsMeasuredAsBasic() throws {
        let exchange = ClientExchange(nonce: nonce, previous: previous, interleavedNonce: interleavedNonce)
        let sent = base + .seconds(1)
        let bytes = answer(origin: nonce, receive: sent + .microseconds(40), transmit: sent + .microseconds(45))
        let measurement = try exchange.evaluate(reply: bytes, sent: sent, received: sent + .microseconds(90)).get()
        #expect(!measurement.isInterleaved)
        #expect(measurement.t1 == sent)
        #expect(measurement.delay == .microseconds(85))
    }

    /// Only our two nonces are believed: not the previous receive time the request showed, and
    /// not the interleaved nonce when the request was basic.
    @Test func otherOriginsAreIgnored() {
        let interleaved = ClientExchange(nonce: nonce, previous: previous, interleavedNonce: interleavedNonce)
        let sent = base + .seconds(1)
        let echoOfOrigin = answer(origin: previous.serverReceive.rawValue, receive: sent, transmit: sent)
        #expect(interleaved.evaluate(reply: echoOfOrigin, sent: sent, received: sent) == .failure(.originMismatch))
        let basic = ClientExchange(nonce: nonce)
        let claimsInterleaved = answer(origin: interleavedNonce, receive: sent, transmit: sent)
        #expect(basic.evaluate(reply: claimsInterleaved, sent: sent, received: sent) == .failure(.originMismatch))
        let zeroOrigin = answer(origin: 0, receive: sent, transmit: sent)
        #expect(basic.evaluate(reply: zeroOrigin, sent: sent, received: sent) == .failure(.originMismatch))
    }

    @Test func anInterleavedTransmitBeforeThePreviousReceiveIsRefused() {
        let exchange = ClientExchange(nonce: nonce, previous: previous, interleavedNonce: interleavedNonce)
        let sent = base + .seconds(1)
        let bytes = answer(origin: interleavedNonce, receive: sent, transmit: previous.serverReceive - .microseconds(1))
        #expect(exchange.evaluate(reply: bytes, sent: sent, received: sent) == .failure(.serverTransmittedBeforeReceiving))
    }
}
