// libFuzzer target: NTS requests answered in place (the serving path) against the general
// path's answer for the same bytes. Both must count the same class and send the same bytes,
// and neither may answer with more bytes than it received.
//
// Random bytes almost never carry a valid authenticator, so with the selector's low bit set
// the input is xored onto a well-formed request sealed with this target's own keys: mutations
// then reach the cookie, the authenticator and the response path.
import PendulumNTP
import PendulumNTPServer
import PendulumNTS
import PendulumTime

private let keyset = deterministicKeyset(step: 29)

private let template: [UInt8] = {
    var random = CountingRandom(next: 77)
    let keys = NTSKeys(c2s: random.bytes(32), s2c: random.bytes(32))
    var cookies: [[UInt8]] = []
    for _ in 0..<2 { cookies.append(keyset.mintCookie(aead: .aesSIVCMAC256, keys: keys, random: &random)) }
    // One cookie in the jar: the request carries one placeholder as well.
    guard var client = try? NTSClientAssociation(aead: .aesSIVCMAC256, keys: keys, cookies: [cookies[0]]),
          let request = try? client.makeRequest(header: NTPHeader(mode: .client, transmitTimestamp: NTPTimestamp(rawValue: 0xE000_0000_0000_1234)), random: &random)
    else { return [] }
    return request
}()

private let configuration = NTPServerCore.Configuration(rateLimit: nil, maximumRequestBytes: 1024)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNTSInPlaceAnswer(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    guard let selector = input.first else { return 0 }
    var request = Array(input.dropFirst())
    if selector & 1 == 1 {
        // The template, xored with the input and cut or extended to the input's length when
        // the selector says so.
        var mutated = template
        for (index, byte) in request.enumerated() where index < mutated.count { mutated[index] ^= byte }
        if selector & 2 == 2 { mutated = Array(mutated.prefix(max(48, request.count))) }
        request = mutated
    }
    guard request.count <= configuration.maximumRequestBytes else { return 0 }
    let client = ClientAddress(high: 0, low: 0xC000_0207, isIPv4: true)
    let usedKeyset = selector & 4 == 4 ? nil : keyset
    var arrayCore = NTPServerCore(configuration: configuration)
    var bufferCore = NTPServerCore(configuration: configuration)
    var arrayRandom = CountingRandom()
    var bufferRandom = CountingRandom()
    let decision = arrayCore.decide(
        request: request, client: client.bytes, receiveTime: NTPTimestamp(rawValue: 0xE000_0000_0000_0000), monotonicNanoseconds: 0,
        state: .local(stratum: 2), keyset: usedKeyset, random: &arrayRandom, transmitTime: { NTPTimestamp(rawValue: 0xE000_0000_0001_0000) }
    )
    var reply = [UInt8](repeating: 0, count: configuration.maximumRequestBytes)
    let served = request.withUnsafeBytes { requestBytes in
        reply.withUnsafeMutableBytes { replyBytes in
            bufferCore.decide(
                request: requestBytes, truncated: false, client: client, receiveTime: NTPTimestamp(rawValue: 0xE000_0000_0000_0000),
                monotonicNanoseconds: 0, state: .local(stratum: 2), keyset: usedKeyset, random: &bufferRandom, reply: replyBytes,
                transmitTime: { NTPTimestamp(rawValue: 0xE000_0000_0001_0000) }
            )
        }
    }
    precondition(served.outcome == decision.outcome, "outcome \(served.outcome) in place, \(decision.outcome) in general")
    precondition(Array(reply.prefix(served.replyLength)) == (decision.reply ?? []), "different reply bytes")
    precondition(served.replyLength <= request.count, "reply larger than request")
    precondition(arrayCore.counters == bufferCore.counters, "different counters")
    return 0
}
