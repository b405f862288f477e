import PendulumTime

/// One client/server exchange (RFC 5905 client mode), without I/O: it builds the request and
/// judges the reply. The caller sends the bytes, timestamps the send (T1) and the reply (T4)
/// and hands them back.
///
/// The request's transmit timestamp is a random nonce, not the send time: a reply must echo it
/// in its origin timestamp, so an off-path attacker cannot forge replies and the real T1 never
/// leaves the machine.
public struct ClientExchange: Sendable {
    public let request: NTPPacket
    public var requestBytes: [UInt8] { request.serialized() }
    /// The exchange before this one, when this request asks for an interleaved answer.
    public let previous: InterleavedPrevious?

    /// `nonce` must be unpredictable: draw it from a cryptographic generator.
    ///
    /// With `previous` (and its own unpredictable `interleavedNonce`) the request asks for
    /// interleaved mode (RFC 9769): its origin is the server's receive time of the previous
    /// request and its receive field carries `interleavedNonce`, which an interleaved answer
    /// echoes as its origin. Such an answer's transmit timestamp is when the server's previous
    /// answer really left (a kernel timestamp), so the previous exchange is measured without the
    /// server's software delay. A server without interleaved mode answers in basic mode, which
    /// is judged as usual.
    public init(
        nonce: UInt64, version: UInt8 = 4, poll: Int8 = 0, extensionFields: [ExtensionField] = [],
        previous: InterleavedPrevious? = nil, interleavedNonce: UInt64 = 0
    ) {
        // A zero nonce in the receive field could never be told from "no interleaved request".
        let interleaved = previous.flatMap { $0.serverReceive != .zero && interleavedNonce != 0 && interleavedNonce != nonce ? $0 : nil }
        self.previous = interleaved
        request = NTPPacket(
            header: NTPHeader(
                leap: .unsynchronized, version: version, mode: .client, stratum: 0, poll: poll, precision: 0,
                originTimestamp: interleaved?.serverReceive ?? .zero,
                receiveTimestamp: interleaved == nil ? .zero : NTPTimestamp(rawValue: interleavedNonce),
                transmitTimestamp: NTPTimestamp(rawValue: nonce)
            ),
            extensionFields: extensionFields
        )
    }

    public init<Generator: RandomNumberGenerator>(using generator: inout Generator, poll: Int8 = 0) {
        self.init(nonce: generator.next(), poll: poll)
    }

    /// Judges a datagram that arrived from the server. `sent` and `received` are the local
    /// clock's T1 and T4.
    public func evaluate(
        reply bytes: [UInt8], sent: NTPTimestamp, received: NTPTimestamp
    ) -> Result<NTPMeasurement, ReplyRejection> {
        let reply: NTPPacket
        do {
            reply = try NTPPacket(parsing: bytes)
        } catch {
            return .failure(.malformed(error))
        }
        let header = reply.header
        guard header.mode == .server else { return .failure(.notAServerReply(header.mode)) }
        // Everything below is only believed from a reply to *our* request.
        let isInterleaved = previous != nil && header.originTimestamp == request.header.receiveTimestamp
        guard header.originTimestamp == request.header.transmitTimestamp || isInterleaved else { return .failure(.originMismatch) }
        if header.stratum == 0 {
            return .failure(.kissOfDeath(code: header.referenceID.asciiText ?? header.referenceID.hex))
        }
        if header.leap == .unsynchronized || header.stratum >= 16 {
            return .failure(.serverUnsynchronized(leap: header.leap, stratum: header.stratum))
        }
        guard header.receiveTimestamp != .zero, header.transmitTimestamp != .zero else {
            return .failure(.missingServerTimestamps)
        }
        let following = InterleavedPrevious(sent: sent, serverReceive: header.receiveTimestamp, received: received)
        if isInterleaved, let previous {
            // The transmit timestamp belongs to the previous answer: measure that exchange.
            guard header.transmitTimestamp - previous.serverReceive >= .zero else { return .failure(.serverTransmittedBeforeReceiving) }
            return .success(NTPMeasurement(
                header: header, t1: previous.sent, t2: previous.serverReceive, t3: header.transmitTimestamp,
                t4: previous.received, isInterleaved: true, following: following
            ))
        }
        let serverProcessing = header.transmitTimestamp - header.receiveTimestamp
        guard serverProcessing >= .zero else { return .failure(.serverTransmittedBeforeReceiving) }
        return .success(NTPMeasurement(
            header: header,
            t1: sent, t2: header.receiveTimestamp, t3: header.transmitTimestamp, t4: received, following: following
        ))
    }
}

/// What interleaved mode needs from one exchange for the next: when our request left and
/// when its answer arrived (local clock), and when the server received the request.
public struct InterleavedPrevious: Sendable, Hashable {
    public var sent: NTPTimestamp
    public var serverReceive: NTPTimestamp
    public var received: NTPTimestamp

    public init(sent: NTPTimestamp, serverReceive: NTPTimestamp, received: NTPTimestamp) {
        self.sent = sent
        self.serverReceive = serverReceive
        self.received = received
    }
}

/// Why a datagram was not taken as the answer to a request.
public enum ReplyRejection: Error, Sendable, Hashable {
    /// Not an NTP packet at all.
    case malformed(NTPPacketError)
    /// An NTP packet, but not a server-mode reply.
    case notAServerReply(NTPMode)
    /// Its origin timestamp is not our nonce: stale, duplicated or forged. Keep waiting.
    case originMismatch
    /// The server told us to go away (RATE, DENY, RSTR, NTSN, …).
    case kissOfDeath(code: String)
    /// Leap indicator 3 or stratum 16: the server does not know the time.
    case serverUnsynchronized(leap: LeapIndicator, stratum: UInt8)
    case missingServerTimestamps
    case serverTransmittedBeforeReceiving

    /// Replies that say nothing about the server and must simply be ignored while waiting for
    /// the real one; the others are the server's authenticated-by-nonce answer.
    public var isIgnorable: Bool {
        switch self {
        case .malformed, .notAServerReply, .originMismatch: true
        case .kissOfDeath, .serverUnsynchronized, .missingServerTimestamps, .serverTransmittedBeforeReceiving: false
        }
    }
}

extension ReplyRejection: CustomStringConvertible {
    public var description: String {
        switch self {
        case .malformed(let error): "malformed reply: \(error)"
        case .notAServerReply(let mode): "reply is not in server mode (mode \(mode.rawValue))"
        case .originMismatch: "reply does not answer our request (origin timestamp mismatch)"
        case .kissOfDeath(let code): "server sent kiss-o'-death \(code)"
        case .serverUnsynchronized(let leap, let stratum):
            "server is not synchronised (leap indicator \(leap.rawValue), stratum \(stratum))"
        case .missingServerTimestamps: "reply lacks receive or transmit timestamp"
        case .serverTransmittedBeforeReceiving: "reply's transmit timestamp precedes its receive timestamp"
        }
    }
}

/// The outcome of one good exchange, in the server's own words plus the four timestamps.
public struct NTPMeasurement: Sendable, Hashable {
    public var header: NTPHeader
    public var t1: NTPTimestamp
    public var t2: NTPTimestamp
    public var t3: NTPTimestamp
    public var t4: NTPTimestamp
    /// T1–T4 are the previous exchange's, completed by this interleaved answer.
    public var isInterleaved: Bool
    /// This exchange's own times, for an interleaved request after it.
    public var following: InterleavedPrevious

    public init(
        header: NTPHeader, t1: NTPTimestamp, t2: NTPTimestamp, t3: NTPTimestamp, t4: NTPTimestamp,
        isInterleaved: Bool = false, following: InterleavedPrevious? = nil
    ) {
        self.header = header
        self.t1 = t1
        self.t2 = t2
        self.t3 = t3
        self.t4 = t4
        self.isInterleaved = isInterleaved
        self.following = following ?? InterleavedPrevious(sent: t1, serverReceive: t2, received: t4)
    }

    /// θ = ((T2 − T1) + (T3 − T4)) / 2: how far the server's clock is ahead of ours.
    public var offset: NTPDuration { NTPDuration.midpoint(t2 - t1, t3 - t4) }

    /// δ = (T4 − T1) − (T3 − T2): the round trip minus the server's processing time.
    public var delay: NTPDuration { (t4 - t1) - (t3 - t2) }
}
