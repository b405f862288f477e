// libFuzzer target: a client judges whatever arrives on its socket. The judgement must be
// total (a result, never a trap), and a reply is only ever believed when its origin is one of
// the request's two nonces: the transmit nonce (basic), or the interleaved nonce when the
// request asked for interleaved mode, and then it measures the previous exchange.
import PendulumNTP
import PendulumTime

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNTPClientReply(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let base = NTPTimestamp(seconds: 3_900_000_000, fraction: 0)
    let previous = InterleavedPrevious(sent: base, serverReceive: base + .microseconds(40), received: base + .microseconds(90))
    let nonce: UInt64 = 0x0123_4567_89AB_CDEF
    let interleavedNonce: UInt64 = 0xFEDC_BA98_7654_3210
    let sent = base + .seconds(16)
    let received = sent + .microseconds(120)
    for exchange in [ClientExchange(nonce: nonce), ClientExchange(nonce: nonce, previous: previous, interleavedNonce: interleavedNonce)] {
        guard case .success(let measurement) = exchange.evaluate(reply: bytes, sent: sent, received: received) else { continue }
        let origin = measurement.header.originTimestamp.rawValue
        if measurement.isInterleaved {
            precondition(exchange.previous != nil && origin == interleavedNonce, "interleaved answer to a basic request")
            precondition(measurement.t1 == previous.sent && measurement.t4 == previous.received, "interleaved answer measured the wrong exchange")
        } else {
            precondition(origin == nonce, "believed a reply that does not echo the nonce")
            precondition(measurement.t1 == sent && measurement.t4 == received, "basic answer measured the wrong exchange")
        }
        precondition(measurement.following.sent == sent && measurement.following.received == received, "kept the wrong exchange for the next request")
        precondition(measurement.t3 - measurement.t2 >= .zero, "server transmitted before it received")
    }
    return 0
}
