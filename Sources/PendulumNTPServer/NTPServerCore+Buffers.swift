import PendulumNTP
import PendulumNTS
import PendulumTime
import PendulumWire

/// What `NTPServerCore.decide(request:truncated:client:…reply:…)` did: the class the request
/// was counted in, and how many bytes of reply it wrote (0: send nothing).
public struct ServedRequest: Sendable, Hashable {
    public var outcome: ServerOutcome
    public var replyLength: Int
    /// The reply may be followed by an interleaved request: capture its kernel transmit
    /// timestamp and report it with `recordTransmit(ofResponseWithReceive:at:)`.
    public var wantsTransmitTimestamp: Bool
    /// The reply is in interleaved mode (RFC 9769).
    public var isInterleaved: Bool

    public init(outcome: ServerOutcome, replyLength: Int, wantsTransmitTimestamp: Bool = false, isInterleaved: Bool = false) {
        self.outcome = outcome
        self.replyLength = replyLength
        self.wantsTransmitTimestamp = wantsTransmitTimestamp
        self.isInterleaved = isInterleaved
    }

    static func dropped(_ reason: ServerDropReason) -> ServedRequest { ServedRequest(outcome: .dropped(reason), replyLength: 0) }
}

extension NTPServerCore {
    /// The serving path's form of `decide`: the request read from, and the reply written to,
    /// buffers the caller owns. A bare 48-byte request (the plain NTP case) is decided and
    /// answered without touching the allocator; longer ones (NTS, extension fields) go through
    /// the general path and have their reply copied in.
    /// - Parameters:
    ///   - truncated: the datagram was longer than the buffer it was received into.
    ///   - reply: room for the reply; a reply that does not fit is not sent (counted as dropped).
    public mutating func decide(
        request: UnsafeRawBufferPointer, truncated: Bool, client: ClientAddress, receiveTime: NTPTimestamp, monotonicNanoseconds: Int64,
        state: ServerClockState, keyset: CookieKeyset?, random: inout some NTSRandomSource,
        reply: UnsafeMutableRawBufferPointer, transmitTime: () -> NTPTimestamp
    ) -> ServedRequest {
        let served: ServedRequest
        if truncated || request.count > configuration.maximumRequestBytes {
            served = .dropped(.oversized)
        } else if request.count == NTPHeader.byteCount {
            served = decideHeaderOnly(request: request, client: client, receiveTime: receiveTime, monotonicNanoseconds: monotonicNanoseconds,
                                      state: state, reply: reply, transmitTime: transmitTime)
        } else if let answered = decideNTSInPlace(
            request: request, client: client, receiveTime: receiveTime, monotonicNanoseconds: monotonicNanoseconds, state: state,
            keyset: keyset, random: &random, reply: reply, transmitTime: transmitTime
        ) {
            served = answered
        } else {
            var answer: AnswerHeader?
            let decision = evaluate(request: Array(request), client: client, receiveTime: receiveTime, monotonicNanoseconds: monotonicNanoseconds,
                                    state: state, keyset: keyset, random: &random, transmitTime: transmitTime, answer: &answer)
            served = Self.copied(decision, answer: answer, into: reply)
        }
        counters.record(served.outcome)
        return served
    }

    /// A decision of the array form, its reply copied into the caller's buffer; `answer`, the
    /// header of a mode 4 answer, says whether it is or may become interleaved.
    static func copied(_ decision: ServerDecision, answer: AnswerHeader?, into reply: UnsafeMutableRawBufferPointer) -> ServedRequest {
        guard let bytes = decision.reply else { return ServedRequest(outcome: decision.outcome, replyLength: 0) }
        guard bytes.count <= reply.count else {
            return .dropped(decision.outcome == .responded && !bytes.isEmpty ? .ntsInvalid : .malformed)
        }
        reply.copyBytes(from: bytes)
        guard decision.outcome == .responded, let answer else { return ServedRequest(outcome: decision.outcome, replyLength: bytes.count) }
        return ServedRequest(outcome: .responded, replyLength: bytes.count, wantsTransmitTimestamp: answer.mayBeInterleaved,
                             isInterleaved: answer.isInterleaved)
    }

    /// An NTS request decided and answered in the caller's buffers, by the same rules in the
    /// same order as the general path (mode, version, access, form, rate, keyset, NTS checks).
    /// nil, before anything is counted or remembered, for a request that is not a well-formed
    /// NTS client request from a permitted client: the general path decides those.
    mutating func decideNTSInPlace(
        request: UnsafeRawBufferPointer, client: ClientAddress, receiveTime: NTPTimestamp, monotonicNanoseconds: Int64,
        state: ServerClockState, keyset: CookieKeyset?, random: inout some NTSRandomSource,
        reply: UnsafeMutableRawBufferPointer, transmitTime: () -> NTPTimestamp
    ) -> ServedRequest? {
        guard request.count > NTPHeader.byteCount, request[0] & 0x7 == NTPMode.client.rawValue,
              configuration.access.permits(client), let layout = NTSRequestLayout(request: request)
        else { return nil }
        // From here on the rate table has seen the request: every path ends in a decision.
        if case .limited? = rateLimiter?.check(client: client, now: monotonicNanoseconds) { return .dropped(.rateLimited) }
        guard let keyset else { return .dropped(.ntsUnavailable) }
        var answer: AnswerHeader?
        let outcome = NTSServerHandler.answerInPlace(
            request: request, layout: layout, keyset: keyset, random: &random, reply: reply,
            responseHeader: {
                let header = answerHeader(request: request, state: state, receiveTime: receiveTime, transmitTime: transmitTime)
                answer = header
                return header.header
            },
            nakTransmitTime: transmitTime
        )
        switch outcome {
        case .responded(let length):
            counters.respondedNTS += 1
            return ServedRequest(outcome: .responded, replyLength: length, wantsTransmitTimestamp: answer?.mayBeInterleaved ?? false,
                                 isInterleaved: answer?.isInterleaved ?? false)
        case .nak(let length):
            return ServedRequest(outcome: .ntsNak, replyLength: length)
        case .dropped:
            return .dropped(.ntsInvalid)
        case .declined:
            var declinedAnswer: AnswerHeader?
            let decision = answerNTS(request: Array(request), state: state, receiveTime: receiveTime, keyset: keyset,
                                     random: &random, transmitTime: transmitTime, answer: &declinedAnswer)
            return Self.copied(decision, answer: declinedAnswer, into: reply)
        }
    }

    /// A request that is exactly a header: the same rules, in the same order, as the general
    /// path (mode, version, access, rate, require-NTS), on the raw bytes. Counts only
    /// interleaved answers; the caller counts the outcome.
    mutating func decideHeaderOnly(
        request: UnsafeRawBufferPointer, client: ClientAddress, receiveTime: NTPTimestamp, monotonicNanoseconds: Int64,
        state: ServerClockState, reply: UnsafeMutableRawBufferPointer, transmitTime: () -> NTPTimestamp
    ) -> ServedRequest {
        guard request.count == NTPHeader.byteCount, reply.count >= NTPHeader.byteCount else { return .dropped(.malformed) }
        let first = request[0]
        guard first & 0x7 == NTPMode.client.rawValue else { return .dropped(.wrongMode) }
        let version = (first >> 3) & 0x7
        guard (1...4).contains(version) else { return .dropped(.unsupportedVersion) }
        let poll = Int8(bitPattern: request[2])
        // The request's transmit timestamp: the origin of a basic answer.
        let origin = NTPTimestamp(rawValue: request.bigEndianUInt64(at: 40))

        func kiss(_ code: KissCode) -> ServedRequest {
            Self.kissHeader(code, version: version, poll: poll, origin: origin, receiveTime: receiveTime, transmitTime: transmitTime())
                .write(into: reply)
            return ServedRequest(outcome: .kiss(code), replyLength: NTPHeader.byteCount)
        }

        guard configuration.access.permits(client) else {
            guard configuration.access.refusal == .kiss else { return .dropped(.denied) }
            if case .limited(let mayKiss)? = rateLimiter?.check(client: client, now: monotonicNanoseconds), !mayKiss {
                return .dropped(.denied)
            }
            return kiss(.deny)
        }
        if case .limited(let mayKiss)? = rateLimiter?.check(client: client, now: monotonicNanoseconds) {
            guard mayKiss else { return .dropped(.rateLimited) }
            return kiss(.rate)
        }
        if configuration.requireNTS { return kiss(.restrict) }
        let answer = answerHeader(request: request, state: state, receiveTime: receiveTime, transmitTime: transmitTime)
        answer.header.write(into: reply)
        return ServedRequest(outcome: .responded, replyLength: NTPHeader.byteCount, wantsTransmitTimestamp: answer.mayBeInterleaved,
                             isInterleaved: answer.isInterleaved)
    }

    /// The header of an answer to the client request whose header is the first 48 bytes of
    /// `request`, basic or interleaved, plain or NTS. Call only for a request that is answered:
    /// an interleaved answer is counted here.
    ///
    /// RFC 9769: a client that may be interleaved sends a non-zero origin different from its
    /// transmit timestamp. If that origin is the receive timestamp of a response whose transmit
    /// time is known, the answer is interleaved: origin = the request's receive field,
    /// transmit = when that earlier response really left.
    mutating func answerHeader(request: UnsafeRawBufferPointer, state: ServerClockState, receiveTime: NTPTimestamp,
                               transmitTime: () -> NTPTimestamp) -> AnswerHeader {
        let origin = request.bigEndianUInt64(at: 40)
        var header = Self.responseHeader(version: (request[0] >> 3) & 0x7, poll: Int8(bitPattern: request[2]),
                                         origin: NTPTimestamp(rawValue: origin), state: state, receiveTime: receiveTime)
        let requestOrigin = request.bigEndianUInt64(at: 24)
        let mayBeInterleaved = interleaved != nil && requestOrigin != 0 && requestOrigin != origin
        if mayBeInterleaved, let previousTransmit = interleaved?.transmit(forReceive: NTPTimestamp(rawValue: requestOrigin)) {
            header.originTimestamp = NTPTimestamp(rawValue: request.bigEndianUInt64(at: 32))
            header.transmitTimestamp = previousTransmit
            counters.respondedInterleaved &+= 1
            return AnswerHeader(header: header, mayBeInterleaved: true, isInterleaved: true)
        }
        header.transmitTimestamp = transmitTime()
        return AnswerHeader(header: header, mayBeInterleaved: mayBeInterleaved, isInterleaved: false)
    }
}

/// An answer's header and whether it is, or may later be asked about as, interleaved.
struct AnswerHeader {
    var header: NTPHeader
    /// The client may ask for this answer's real transmit time next: capture it.
    var mayBeInterleaved: Bool
    var isInterleaved: Bool
}

extension NTPServerCore {
    /// Slots in this core's rate-limit table (0 without rate limiting): fixed at creation.
    public var rateLimitSlotCount: Int { rateLimiter?.slotCount ?? 0 }
}
