import PendulumNTP
import PendulumNTS
import PendulumTime

/// The server's decision for each request datagram, without I/O: bytes, the client's address
/// and timestamps in; the reply (or the reason for none) out, counted per class.
///
/// Rules that keep it from being abused: only mode 3 (client) is ever answered, with mode 4;
/// no reply is larger than its request; refusals are kisses no larger than the request, and
/// RATE kisses are themselves rate limited; NTS requests over the rate are dropped (an
/// unauthenticated kiss would be ignored by an NTS client anyway).
public struct NTPServerCore: Sendable {
    public struct Configuration: Sendable, Hashable {
        public var access: AccessPolicy
        /// nil: no rate limiting.
        public var rateLimit: RateLimiter.Configuration?
        /// Requests longer than this are dropped unread.
        public var maximumRequestBytes: Int
        /// Plain (non-NTS) requests get an RSTR kiss instead of time.
        public var requireNTS: Bool
        /// Answer interleaved requests (RFC 9769) with the transmit time of the previous
        /// response; entries kept, 0 for none (interleaved requests then get basic answers).
        public var interleavedTableSize: Int

        public init(access: AccessPolicy = AccessPolicy(), rateLimit: RateLimiter.Configuration? = RateLimiter.Configuration(),
                    maximumRequestBytes: Int = 2048, requireNTS: Bool = false, interleavedTableSize: Int = 1 << 14) {
            self.access = access
            self.rateLimit = rateLimit
            self.maximumRequestBytes = maximumRequestBytes
            self.requireNTS = requireNTS
            self.interleavedTableSize = max(0, interleavedTableSize)
        }
    }

    public let configuration: Configuration
    public internal(set) var counters = ServerCounters()
    var rateLimiter: RateLimiter?
    var interleaved: InterleavedTable?

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        rateLimiter = configuration.rateLimit.map { RateLimiter(configuration: $0) }
        interleaved = configuration.interleavedTableSize > 0 ? InterleavedTable(capacity: configuration.interleavedTableSize) : nil
    }

    /// Tells the core when a response left (its kernel transmit timestamp), identified by the
    /// receive timestamp it carried: what a later interleaved request will ask for.
    public mutating func recordTransmit(ofResponseWithReceive receive: NTPTimestamp, at transmit: NTPTimestamp) {
        interleaved?.record(receive: receive, transmit: transmit)
    }

    /// Decides and counts.
    /// - Parameters:
    ///   - client: the sender's address bytes (4 or 16), for access control and rate limiting.
    ///   - receiveTime: T2, when the request arrived (a kernel timestamp where there is one).
    ///   - monotonicNanoseconds: a monotonic clock reading, for rate limiting only.
    ///   - transmitTime: read for T3 as late as the reply's construction allows.
    public mutating func decide(
        request: [UInt8], client: [UInt8], receiveTime: NTPTimestamp, monotonicNanoseconds: Int64,
        state: ServerClockState, keyset: CookieKeyset?, random: inout some NTSRandomSource,
        transmitTime: () -> NTPTimestamp
    ) -> ServerDecision {
        let decision: ServerDecision
        if let address = ClientAddress(bytes: client) {
            var answer: AnswerHeader?
            decision = evaluate(request: request, client: address, receiveTime: receiveTime, monotonicNanoseconds: monotonicNanoseconds,
                                state: state, keyset: keyset, random: &random, transmitTime: transmitTime, answer: &answer)
        } else {
            // Not an IPv4 or IPv6 address: nothing to check access or rates against.
            decision = .drop(.denied)
        }
        counters.record(decision.outcome)
        return decision
    }

    /// - Parameter answer: set to the header of a mode 4 answer with extension fields (plain or
    ///   NTS), which the serving path needs to know whether to capture the reply's transmit
    ///   timestamp. Bare headers are answered by `decideHeaderOnly`, which says so itself.
    mutating func evaluate(
        request: [UInt8], client: ClientAddress, receiveTime: NTPTimestamp, monotonicNanoseconds: Int64,
        state: ServerClockState, keyset: CookieKeyset?, random: inout some NTSRandomSource,
        transmitTime: () -> NTPTimestamp, answer: inout AnswerHeader?
    ) -> ServerDecision {
        // Cheapest checks first, on the raw first byte: nothing but a client request is read further.
        guard request.count <= configuration.maximumRequestBytes else { return .drop(.oversized) }
        guard request.count >= NTPHeader.byteCount, let first = request.first else { return .drop(.malformed) }
        if request.count == NTPHeader.byteCount {
            // A bare header, the common case: one implementation, shared with the serving path.
            var reply = [UInt8](repeating: 0, count: NTPHeader.byteCount)
            let served = request.withUnsafeBytes { requestBytes in
                reply.withUnsafeMutableBytes { replyBytes in
                    decideHeaderOnly(request: requestBytes, client: client, receiveTime: receiveTime, monotonicNanoseconds: monotonicNanoseconds,
                                     state: state, reply: replyBytes, transmitTime: transmitTime)
                }
            }
            switch served.outcome {
            case .responded: return .respond(reply)
            case .kiss(let code): return .kissOfDeath(reply, code)
            case .ntsNak: return .ntsNak(reply)
            case .dropped(let reason): return .drop(reason)
            }
        }
        guard first & 0x7 == NTPMode.client.rawValue else { return .drop(.wrongMode) }
        let version = (first >> 3) & 0x7
        guard (1...4).contains(version) else { return .drop(.unsupportedVersion) }

        guard configuration.access.permits(client) else {
            guard configuration.access.refusal == .kiss else { return .drop(.denied) }
            // DENY kisses obey the client's rate too: spoofed denied sources must not turn the
            // server into a reflector.
            if case .limited(let mayKiss)? = rateLimiter?.check(client: client, now: monotonicNanoseconds), !mayKiss {
                return .drop(.denied)
            }
            return kiss(.deny, request: request, receiveTime: receiveTime, transmitTime: transmitTime)
        }

        let packet: NTPPacket
        do { packet = try NTPPacket(parsing: request) } catch { return .drop(.malformed) }
        let isNTS = packet.extensionFields.contains { $0.type == ExtensionFieldType.ntsUniqueIdentifier }

        // Mutated in place through the optional: a copy would duplicate the whole table.
        if case .limited(let mayKiss)? = rateLimiter?.check(client: client, now: monotonicNanoseconds) {
            guard mayKiss, !isNTS else { return .drop(.rateLimited) }
            return kiss(.rate, request: request, receiveTime: receiveTime, transmitTime: transmitTime)
        }

        if isNTS {
            guard let keyset else { return .drop(.ntsUnavailable) }
            return answerNTS(request: request, state: state, receiveTime: receiveTime, keyset: keyset,
                             random: &random, transmitTime: transmitTime, answer: &answer)
        }

        if configuration.requireNTS {
            return kiss(.restrict, request: request, receiveTime: receiveTime, transmitTime: transmitTime)
        }
        // Extension fields the server does not act on are not echoed; the answer is a header, and
        // interleaved like any other (RFC 9769 does not depend on what follows the header).
        let answered = request.withUnsafeBytes { answerHeader(request: $0, state: state, receiveTime: receiveTime, transmitTime: transmitTime) }
        answer = answered
        var reply: [UInt8] = []
        reply.reserveCapacity(NTPHeader.byteCount)
        answered.header.write(to: &reply)
        return .respond(reply)
    }

    /// An NTS request that passed access and rate checks: authenticated answer, NAK or nothing.
    mutating func answerNTS(
        request: [UInt8], state: ServerClockState, receiveTime: NTPTimestamp, keyset: CookieKeyset,
        random: inout some NTSRandomSource, transmitTime: () -> NTPTimestamp, answer: inout AnswerHeader?
    ) -> ServerDecision {
        switch NTSServerHandler.authenticate(request, keyset: keyset) {
        case .drop:
            return .drop(.ntsInvalid)
        case .nak(let header, let uniqueIdentifier):
            let nak = NTSServerHandler.nak(respondingTo: header, uniqueIdentifier: uniqueIdentifier, transmit: transmitTime())
            guard nak.count <= request.count else { return .drop(.ntsInvalid) }
            return .ntsNak(nak)
        case .respond(let authenticated):
            // The same header, interleaved or not, as the serving path gives.
            let answered = request.withUnsafeBytes { answerHeader(request: $0, state: state, receiveTime: receiveTime, transmitTime: transmitTime) }
            let reply = NTSServerHandler.response(header: answered.header, to: authenticated, keyset: keyset, random: &random)
            guard !reply.isEmpty, reply.count <= request.count else { return .drop(.ntsInvalid) }
            counters.respondedNTS += 1
            answer = answered
            return .respond(reply)
        }
    }

    /// The answer's header: mode 4, version and poll copied, origin = the request's transmit
    /// time, T2 as receive; transmit is filled in last by the caller.
    static func responseHeader(version: UInt8, poll: Int8, origin: NTPTimestamp, state: ServerClockState, receiveTime: NTPTimestamp) -> NTPHeader {
        NTPHeader(
            leap: state.wireLeap, version: version, mode: .server, stratum: state.wireStratum,
            poll: poll, precision: state.precision, rootDelay: state.rootDelay, rootDispersion: state.rootDispersion,
            referenceID: state.isSynchronized ? state.referenceID : ReferenceID(rawValue: 0),
            referenceTimestamp: state.isSynchronized ? (state.referenceTimestamp == .zero ? receiveTime : state.referenceTimestamp) : .zero,
            originTimestamp: origin, receiveTimestamp: receiveTime, transmitTimestamp: .zero
        )
    }

    /// A kiss-o'-death header (RFC 5905 §7.4): LI 3, stratum 0, the code as reference id, the
    /// request's transmit time as origin so the client can match it.
    static func kissHeader(_ code: KissCode, version: UInt8, poll: Int8, origin: NTPTimestamp, receiveTime: NTPTimestamp, transmitTime: NTPTimestamp) -> NTPHeader {
        NTPHeader(
            leap: .unsynchronized, version: version, mode: .server, stratum: 0, poll: poll,
            precision: 0, referenceID: code.referenceID, originTimestamp: origin,
            receiveTimestamp: receiveTime, transmitTimestamp: transmitTime
        )
    }

    /// A kiss-o'-death (RFC 5905 §7.4): LI 3, stratum 0, the code as reference id, the
    /// request's transmit time as origin so the client can match it. 48 bytes, and only ever
    /// sent for requests of at least 48 bytes.
    private func kiss(_ code: KissCode, request: [UInt8], receiveTime: NTPTimestamp, transmitTime: () -> NTPTimestamp) -> ServerDecision {
        let version = (request[0] >> 3) & 0x7
        var origin: UInt64 = 0
        for byte in request[40..<48] { origin = origin << 8 | UInt64(byte) }
        let header = Self.kissHeader(code, version: version, poll: Int8(bitPattern: request[2]), origin: NTPTimestamp(rawValue: origin),
                                     receiveTime: receiveTime, transmitTime: transmitTime())
        var reply: [UInt8] = []
        header.write(to: &reply)
        return .kissOfDeath(reply, code)
    }
}
