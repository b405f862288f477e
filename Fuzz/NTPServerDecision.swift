// libFuzzer target: the server's decision for arbitrary request bytes. It must be total, never
// answer anything but a version 1–4 client request, and never answer with more bytes than it
// received (no amplification), whatever the access lists and rate limiter say.
import PendulumNTP
import PendulumNTPServer
import PendulumNTS
import PendulumTime

private let keyset = deterministicKeyset(step: 29)

private let configuration: NTPServerCore.Configuration = {
    let deny = (try? AddressPrefix(parsing: "10.0.0.0/8")).map { [$0] } ?? []
    return NTPServerCore.Configuration(
        access: AccessPolicy(deny: deny),
        rateLimit: RateLimiter.Configuration(minimumIntervalNanoseconds: 1_000_000, burst: 3, kissIntervalNanoseconds: 5_000_000, tableSize: 16),
        maximumRequestBytes: 1024
    )
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNTPServerDecision(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    // The first byte picks the client (a denied one, IPv4, IPv6) and how far time moved.
    let selector = input.first ?? 0
    let request = Array(input.dropFirst())
    let client: [UInt8] = switch selector % 3 {
    case 0: [10, 0, 0, selector]
    case 1: [192, 0, 2, selector]
    default: [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: selector, count: 12)
    }
    var core = NTPServerCore(configuration: configuration)
    var random = CountingRandom()
    for round in 0..<4 {
        let before = core.counters.total
        let decision = core.decide(
            request: request, client: client, receiveTime: NTPTimestamp(rawValue: 0xE000_0000_0000_0000),
            monotonicNanoseconds: Int64(round) * Int64(selector) * 100_000, state: .local(stratum: 2),
            keyset: keyset, random: &random, transmitTime: { NTPTimestamp(rawValue: 0xE000_0000_0001_0000) }
        )
        precondition(core.counters.total == before + 1)
        if let reply = decision.reply {
            precondition(reply.count <= request.count, "reply larger than request")
            precondition(request.count >= 48 && request[0] & 7 == 3, "answered a non-client packet")
            precondition((1...4).contains((request[0] >> 3) & 7), "answered an unsupported version")
            precondition(reply[0] & 7 == 4, "reply is not mode 4")
        }
    }
    return 0
}
