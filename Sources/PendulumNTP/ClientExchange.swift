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

    /// `nonce` must be unpredictable: draw it from a cryptographic generator.
    public init(nonce: UInt64, version: UInt8 = 4, poll: Int8 = 0, extensionFields: [ExtensionField] = []) {
        request = NTPPacket(
            header: NTPHeader(
                leap: .unsynchronized, version: version, mode: .client, stratum: 0, poll: poll, precision: 0,
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
        guard header.originTimestamp == request.header.transmitTimestamp else { return .failure(.originMismatch) }
        if header.stratum == 0 {
            return .failure(.kissOfDeath(code: header.referenceID.asciiText ?? header.referenceID.hex))
        }
        if header.leap == .unsynchronized || header.stratum >= 16 {
            return .failure(.serverUnsynchronized(leap: header.leap, stratum: header.stratum))
        }
        guard header.receiveTimestamp != .zero, header.transmitTimestamp != .zero else {
            return .failure(.missingServerTimestamps)
        }
        let serverProcessing = header.transmitTimestamp - header.receiveTimestamp
        guard serverProcessing >= .zero else { return .failure(.serverTransmittedBeforeReceiving) }
        return .success(NTPMeasurement(
            header: header,
            t1: sent, t2: header.receiveTimestamp, t3: header.transmitTimestamp, t4: received
        ))
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

    /// θ = ((T2 − T1) + (T3 − T4)) / 2: how far the server's clock is ahead of ours.
    public var offset: NTPDuration { NTPDuration.midpoint(t2 - t1, t3 - t4) }

    /// δ = (T4 − T1) − (T3 − T2): the round trip minus the server's processing time.
    public var delay: NTPDuration { (t4 - t1) - (t3 - t2) }
}
