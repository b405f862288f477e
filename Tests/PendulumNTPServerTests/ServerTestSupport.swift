import PendulumNTP
import PendulumNTPServer
import PendulumNTS
import PendulumTime

/// Deterministic randomness for cookies and nonces in tests.
struct CountingRandom: NTSRandomSource {
    var next: UInt8 = 1
    mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in next &+= 1; return next }
    }
}

enum Fixture {
    static let client: [UInt8] = [192, 0, 2, 7]
    static let t2 = NTPTimestamp(seconds: 3_900_000_000, fraction: 0x4000_0000)
    static let t3 = NTPTimestamp(seconds: 3_900_000_000, fraction: 0x4001_0000)
    static let clientTransmit = NTPTimestamp(seconds: 3_899_999_999, fraction: 0x1234_5678)

    static func request(version: UInt8 = 4, mode: NTPMode = .client, poll: Int8 = 6, extraBytes: [UInt8] = []) -> [UInt8] {
        var bytes: [UInt8] = []
        NTPHeader(version: version, mode: mode, poll: poll, transmitTimestamp: clientTransmit).write(to: &bytes)
        return bytes + extraBytes
    }

    static func decide(_ core: inout NTPServerCore, _ request: [UInt8], client: [UInt8] = client, at nanoseconds: Int64 = 0,
                       state: ServerClockState = .local(stratum: 3), keyset: CookieKeyset? = nil) -> ServerDecision {
        var random = CountingRandom()
        return core.decide(request: request, client: client, receiveTime: t2, monotonicNanoseconds: nanoseconds,
                           state: state, keyset: keyset, random: &random, transmitTime: { t3 })
    }
}
