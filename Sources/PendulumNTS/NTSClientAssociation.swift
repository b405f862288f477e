import PendulumNTP

/// What became of a packet the client received.
public enum NTSClientOutcome: Sendable, Hashable {
    /// Authentic: use `header` for the time measurement. `newCookies` went into the jar.
    case authenticated(header: NTPHeader, newCookies: Int)
    /// A valid NTS NAK for a request we sent: the server no longer accepts our cookies. The jar
    /// has been emptied; run NTS-KE again.
    case nak
    /// Not for us, forged, replayed or malformed: drop it and keep waiting.
    case ignored(NTSClientRejection)
}

public enum NTSClientRejection: Error, Sendable, Hashable {
    case malformed(NTSPacketError)
    case missingUniqueIdentifier
    /// The UID matches no outstanding request (stale, replayed, or someone else's).
    case unknownUniqueIdentifier
    case missingAuthenticator
    case authenticationFailed
    /// The authenticated plaintext is not a sequence of extension fields.
    case malformedEncryptedFields(NTSPacketError)
}

public enum NTSClientError: Error, Sendable, Hashable {
    /// The jar is empty: run NTS-KE before sending.
    case noCookies
}

/// The client side of NTS-protected NTP for one server (RFC 8915 §5.7), without I/O: it builds
/// requests from the caller's NTP header and checks responses. Created from an NTS-KE result
/// and the exporter keys.
///
/// ```swift
/// var association = try NTSClientAssociation(result: keResult, keys: keys)
/// let packet = try association.makeRequest(header: header, random: &random)   // send it
/// switch association.handleResponse(received) { case .authenticated(let header, _): ...; case .nak: rekey; case .ignored: keep waiting }
/// if association.needsKeyExchange { rerun NTS-KE }
/// ```
public struct NTSClientAssociation: Sendable {
    public let aead: AEADAlgorithm
    private let c2s: AESSIV
    private let s2c: AESSIV
    public private(set) var jar: NTSCookieJar
    /// Unique identifiers of requests sent and not yet answered, oldest first. A response is
    /// accepted once per identifier, so a replayed response is ignored.
    private var outstanding: [[UInt8]] = []
    public private(set) var receivedNAK = false

    public static let uniqueIdentifierByteCount = 32
    public static let nonceByteCount = 16
    /// Requests older than this many newer ones are forgotten (their responses ignored).
    public static let maximumOutstandingRequests = 8

    public init(aead: AEADAlgorithm, keys: NTSKeys, cookies: [[UInt8]]) throws(AEADError) {
        self.aead = aead
        c2s = try AESSIV(algorithm: aead, key: keys.c2s)
        s2c = try AESSIV(algorithm: aead, key: keys.s2c)
        jar = NTSCookieJar(cookies: cookies)
    }

    public init(result: NTSKEClientResult, keys: NTSKeys) throws(AEADError) {
        try self.init(aead: result.aead, keys: keys, cookies: result.cookies)
    }

    /// Out of cookies or told by a NAK that the cookies are no longer good.
    public var needsKeyExchange: Bool { jar.isEmpty || receivedNAK }

    /// Builds a request around `header` (mode client, transmit timestamp set by the caller):
    /// Unique Identifier, one cookie, placeholders for the cookies wanted, authenticator over
    /// everything before it.
    public mutating func makeRequest(header: NTPHeader, random: inout some NTSRandomSource) throws(NTSClientError) -> [UInt8] {
        guard let cookie = jar.take() else { throw .noCookies }
        let uniqueIdentifier = random.bytes(Self.uniqueIdentifierByteCount)
        var fields = [
            ExtensionField(type: ExtensionFieldType.ntsUniqueIdentifier, value: uniqueIdentifier),
            ExtensionField(type: ExtensionFieldType.ntsCookie, value: cookie),
        ]
        fields += repeatElement(ExtensionField(type: ExtensionFieldType.ntsCookiePlaceholder, value: [UInt8](repeating: 0, count: cookie.count)),
                                count: jar.placeholdersWanted)
        var packet: [UInt8] = []
        header.write(to: &packet)
        packet += encodeFields(fields)
        let nonce = random.bytes(Self.nonceByteCount)
        let sealed = c2s.seal([], nonce: nonce, associatedData: packet)
        NTSAuthenticator(nonce: nonce, ciphertext: sealed).field.write(to: &packet)
        outstanding.append(uniqueIdentifier)
        if outstanding.count > Self.maximumOutstandingRequests { outstanding.removeFirst() }
        return packet
    }

    /// Checks a received packet against the outstanding requests (RFC 8915 §5.7 and §5.8).
    public mutating func handleResponse(_ bytes: [UInt8]) -> NTSClientOutcome {
        let packet: NTSPacket
        do { packet = try NTSPacket(parsing: bytes) } catch { return .ignored(.malformed(error)) }
        guard let uniqueIdentifier = packet.firstValue(ofType: ExtensionFieldType.ntsUniqueIdentifier) else {
            return .ignored(.missingUniqueIdentifier)
        }
        // Field values carry padding; our identifiers are 32 bytes, a multiple of four, so the
        // echoed value must be exactly what we sent.
        guard let index = outstanding.firstIndex(where: { constantTimeEqual($0, uniqueIdentifier) }) else {
            return .ignored(.unknownUniqueIdentifier)
        }
        guard let authenticator = packet.authenticator else {
            if packet.header.isKissOfDeath, packet.header.referenceID == .kissNTSNak {
                outstanding.remove(at: index)
                receivedNAK = true
                jar.removeAll()
                return .nak
            }
            return .ignored(.missingAuthenticator)
        }
        let plaintext: [UInt8]
        do {
            plaintext = try s2c.open(authenticator.ciphertext, nonce: authenticator.nonce, associatedData: packet.authenticatedBytes)
        } catch {
            return .ignored(.authenticationFailed)
        }
        let encrypted: [ExtensionField]
        do { encrypted = try scanFields(plaintext) } catch { return .ignored(.malformedEncryptedFields(error)) }
        outstanding.remove(at: index)
        // Cookies count only from the encrypted part: unauthenticated ones could be planted to
        // track the client.
        let cookies = encrypted.filter { $0.type == ExtensionFieldType.ntsCookie }.map(\.value)
        jar.add(cookies)
        return .authenticated(header: packet.header, newCookies: cookies.count)
    }
}
