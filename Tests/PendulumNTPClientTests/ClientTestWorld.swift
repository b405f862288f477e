import PendulumDiscipline
import PendulumNTP
import PendulumNTPClient
import PendulumNTPServer
import PendulumNTS
import PendulumTime

/// Deterministic bytes for cookies and keys.
struct CountingRandom: NTSRandomSource {
    var next: UInt8 = 1
    mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in next &+= 1; return next }
    }
}

/// A server for the core to talk to: the daemon's own server core, `offset` ahead of the
/// client's clock, optionally with an NTS keyset.
struct TestServer {
    var core = NTPServerCore(configuration: .init(rateLimit: nil))
    var offset: NTPDuration
    var keyset: CookieKeyset?
    var random = CountingRandom(next: 40)

    init(offset: NTPDuration = .zero, keyset: CookieKeyset? = nil) {
        self.offset = offset
        self.keyset = keyset
    }

    /// The answer to `request`, received at client time `at`, sent 10 µs later.
    mutating func answer(_ request: [UInt8], at clientTime: NTPTimestamp) -> [UInt8]? {
        let receive = clientTime + offset
        let transmit = receive + .microseconds(10)
        let decision = core.decide(
            request: request, client: [192, 0, 2, 200], receiveTime: receive, monotonicNanoseconds: 0,
            state: .local(stratum: 2), keyset: keyset, random: &random, transmitTime: { transmit })
        core.recordTransmit(ofResponseWithReceive: receive, at: transmit)
        return decision.reply
    }
}

enum World {
    static let start = NTPTimestamp(seconds: 3_900_000_000, fraction: 0)
    static let address = ResolvedAddress(ipv4: 192, 0, 2, 1, port: 123)
    static let otherAddress = ResolvedAddress(ipv4: 192, 0, 2, 2, port: 123)

    static func sends(_ actions: [ClientAction]) -> [(bytes: [UInt8], id: SourceID, address: ResolvedAddress)] {
        actions.compactMap { if case .send(let bytes, let id, let address) = $0 { (bytes, id, address) } else { nil } }
    }

    static func timer(_ timer: ClientTimer, in actions: [ClientAction]) -> NTPDuration? {
        actions.compactMap { if case .setTimer(timer, let delay) = $0 { delay } else { nil } }.last
    }

    static func steps(_ actions: [ClientAction]) -> [NTPDuration] {
        actions.compactMap { if case .steer(.step(let amount)) = $0 { amount } else { nil } }
    }

    static func logs(_ actions: [ClientAction], _ level: ClientLogLevel) -> [String] {
        actions.compactMap { if case .log(level, let text) = $0 { text } else { nil } }
    }

    /// An NTS association whose cookies `keyset` accepts.
    static func ntsAssociation(keyset: CookieKeyset, cookies count: Int = 8) throws -> NTSClientAssociation {
        var random = CountingRandom(next: 90)
        let keys = NTSKeys.derive(exporterSecret: random.bytes(32), hash: .sha256, aead: .aesSIVCMAC256)
        var cookies: [[UInt8]] = []
        for _ in 0..<count { cookies.append(keyset.mintCookie(aead: .aesSIVCMAC256, keys: keys, random: &random)) }
        return try NTSClientAssociation(aead: .aesSIVCMAC256, keys: keys, cookies: cookies)
    }

    static func keyset(_ seed: UInt8) -> CookieKeyset {
        var random = CountingRandom(next: seed)
        return CookieKeyset.generate(now: 0, random: &random)
    }
}

/// A core with resolved sources and a clock that only moves when told.
struct Harness {
    var core: NTPClientCore
    var now = World.start

    init(_ sources: [SourceSpecification], configuration: DisciplineConfiguration = DisciplineConfiguration()) {
        core = NTPClientCore(sources: sources, configuration: configuration, random: ClientRandomSource(seed: 7))
    }

    /// Fires a source's poll and, if it asks for a name, answers with `address`.
    mutating func poll(_ id: SourceID, address: ResolvedAddress = World.address) -> [ClientAction] {
        var actions = core.timerFired(.poll(id), at: now)
        if actions.contains(where: { if case .resolve(id, _, _) = $0 { true } else { false } }) {
            actions += core.resolved(id, addresses: [address], at: now)
        }
        return actions
    }

    /// One whole exchange with `server`: poll, send, answer after `delay`.
    mutating func exchange(
        _ id: SourceID, with server: inout TestServer, delay: NTPDuration = .microseconds(200), address: ResolvedAddress = World.address
    ) -> [ClientAction] {
        let polled = poll(id, address: address)
        guard let request = World.sends(polled).last?.bytes else { return polled }
        core.transmitted(id, at: now)
        now = now + delay.halved
        let answer = server.answer(request, at: now)
        now = now + delay.halved
        guard let answer else { return polled }
        return polled + core.received(answer, from: id, at: now)
    }
}
