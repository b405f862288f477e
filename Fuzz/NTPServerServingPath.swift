// libFuzzer target: the serving path's decision (request and reply in fixed buffers) with
// interleaved-mode state fed from the input. It must be total, write no more than it received
// and no more than the reply buffer holds, and answer only version 1–4 client requests.
import PendulumNTP
import PendulumNTPServer
import PendulumNTS
import PendulumTime

private let keyset = deterministicKeyset(step: 29)

private let configuration = NTPServerCore.Configuration(
    rateLimit: RateLimiter.Configuration(minimumIntervalNanoseconds: 1_000_000, burst: 3, kissIntervalNanoseconds: 5_000_000, tableSize: 16),
    maximumRequestBytes: 1024, interleavedTableSize: 16
)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNTPServerServingPath(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    guard let selector = input.first else { return 0 }
    let request = UnsafeRawBufferPointer(rebasing: input.dropFirst())
    // The request's own origin field as a remembered receive timestamp: reaches the
    // interleaved branch whenever the input asks for it.
    var core = NTPServerCore(configuration: configuration)
    if request.count >= 32, selector & 1 == 1 {
        var origin: UInt64 = 0
        for index in 24..<32 { origin = origin << 8 | UInt64(request[index]) }
        core.recordTransmit(ofResponseWithReceive: NTPTimestamp(rawValue: origin), at: NTPTimestamp(rawValue: 0xE000_0000_0002_0000))
    }
    let client = ClientAddress(high: 0x2001_0DB8_0000_0000, low: UInt64(selector), isIPv4: selector & 2 == 0)
    var random = CountingRandom()
    let capacity = Int(selector >> 2) * 16
    let reply = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, capacity), alignment: 8)
    defer { reply.deallocate() }
    let limited = UnsafeMutableRawBufferPointer(rebasing: reply[..<capacity])
    for round in 0..<3 {
        let before = core.counters.total
        let served = core.decide(
            request: request, truncated: selector & 0x80 != 0 && round == 2, client: client,
            receiveTime: NTPTimestamp(rawValue: 0xE000_0000_0000_0000), monotonicNanoseconds: Int64(round) * 100_000,
            state: .local(stratum: 2), keyset: keyset, random: &random, reply: limited,
            transmitTime: { NTPTimestamp(rawValue: 0xE000_0000_0001_0000) }
        )
        precondition(core.counters.total == before + 1)
        precondition(served.replyLength <= limited.count, "reply larger than its buffer")
        if served.replyLength > 0 {
            precondition(served.replyLength <= request.count, "reply larger than request")
            precondition(request.count >= 48 && request[0] & 7 == 3, "answered a non-client packet")
            precondition((1...4).contains((request[0] >> 3) & 7), "answered an unsupported version")
            precondition(limited[0] & 7 == 4, "reply is not mode 4")
        }
        precondition(!served.isInterleaved || served.replyLength == 48, "interleaved answer that is not a bare header")
    }
    return 0
}
