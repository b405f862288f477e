// libFuzzer target: the NTP client core must survive any sequence of datagrams, transmit
// reports, timer expiries, name lookups and socket failures without trapping, for a plain
// and an NTS source. The input is a list of records [kind][length][payload…]. One kind copies
// the nonce of the last request into the payload's origin field, so replies get past the
// origin check and reach the measurement, kiss-o'-death and discipline paths. Another runs
// NTS-KE completions whose certificates are valid only at a time the input picks, so the
// agreement of sources with deferred certificate checks (any validity period, any key) is
// reached too.
import PendulumDiscipline
import PendulumNTP
import PendulumNTPClient
import PendulumNTS
import PendulumTime

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNTPClientCoreInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var random = CountingRandom()
    let keyset = deterministicKeyset()
    let keys = NTSKeys.derive(exporterSecret: random.bytes(32), hash: .sha256, aead: .aesSIVCMAC256)
    let cookies = (0..<4).map { _ in keyset.mintCookie(aead: .aesSIVCMAC256, keys: keys, random: &random) }
    guard let association = try? NTSClientAssociation(aead: .aesSIVCMAC256, keys: keys, cookies: cookies) else { return 0 }
    let polling = PollSettings(limits: -2...2)
    var core = NTPClientCore(
        sources: [
            SourceSpecification(host: "192.0.2.1", polling: polling),
            SourceSpecification(host: "nts.test", mode: .nts),
            SourceSpecification(host: "nts2.test", mode: .nts),
            SourceSpecification(host: "pool.test", mode: .pool, poolCount: 2),
        ],
        random: ClientRandomSource(seed: 1))
    var now = NTPTimestamp(seconds: 3_900_000_000, fraction: 0)
    let address = ResolvedAddress(ipv4: 192, 0, 2, 1, port: 123)
    var lastRequest: [SourceID: [UInt8]] = [:]
    func remember(_ actions: [ClientAction]) {
        for case .send(let request, let id, _) in actions { lastRequest[id] = request }
    }
    remember(core.start())
    remember(core.keyExchangeCompleted(SourceID(1), association: association, ntpHost: "192.0.2.2", ntpPort: nil, at: now))

    var position = 0
    while position + 2 <= bytes.count {
        let kind = bytes[position]
        let length = Int(bytes[position + 1])
        let start = position + 2
        let end = Swift.min(bytes.count, start + length)
        let payload = Array(bytes[start..<end])
        position = end
        let id = SourceID(Int(kind >> 6) % 4)
        now = now + .milliseconds(Int64(kind & 0x38))
        switch kind & 7 {
        case 0:
            remember(core.received(payload, from: id, at: now))
        case 1:
            var reply = payload + [UInt8](repeating: 0, count: max(0, 48 - payload.count))
            if let request = lastRequest[id], request.count >= 48 { reply.replaceSubrange(24..<32, with: request[40..<48]) }
            remember(core.received(reply, from: id, at: now))
        case 2:
            let timers: [ClientTimer] = [.poll(id), .deadline(id), .poolMaintenance, .slewEnd, .leapReview]
            remember(core.timerFired(timers[Int(payload.first ?? 0) % timers.count], at: now))
        case 3:
            core.transmitted(id, at: now)
        case 4:
            remember(core.resolved(id, addresses: payload.isEmpty ? [] : [address], at: now))
        case 5:
            remember(core.exchangeFailed(id, reason: "fuzz", at: now))
        case 6:
            let members = payload.prefix(8).map { ResolvedAddress(ipv4: 198, 51, 100, $0, port: 123) }
            remember(core.poolResolved(Int(payload.first ?? 0) % 4, addresses: members))
        default:
            if payload.count >= 17 {
                func int64(_ slice: ArraySlice<UInt8>) -> Int64 { Int64(bitPattern: slice.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }) }
                let validity = CertificateValidity(
                    notBefore: int64(payload[0..<8]), notAfter: int64(payload[8..<16]), keyIdentity: [payload[16]])
                remember(core.keyExchangeCompleted(id, association: association, ntpHost: "192.0.2.3", ntpPort: nil, certificateValidity: validity, at: now))
            } else {
                remember(core.keyExchangeFailed(id, reason: "fuzz", at: now))
                remember(core.resolutionFailed(id, reason: "fuzz", at: now))
            }
        }
        _ = core.sourceStatuses(at: now)
    }
    return 0
}
