import PendulumNTP
import PendulumTime

/// A request that passed NTS checks: answer it with `NTSServerHandler.response`.
public struct NTSAuthenticatedRequest: Sendable, Hashable {
    public var header: NTPHeader
    public var uniqueIdentifier: [UInt8]
    public var aead: AEADAlgorithm
    public var keys: NTSKeys
    /// 1 + the number of placeholders: how many fresh cookies the client asked for.
    public var cookiesWanted: Int
    /// The size of the request: the response must not exceed it (no amplification).
    public var requestByteCount: Int
}

public enum NTSServerDecision: Sendable, Hashable {
    case respond(NTSAuthenticatedRequest)
    /// The cookie cannot be used (unknown key or not ours): send `NTSServerHandler.nak`.
    case nak(header: NTPHeader, uniqueIdentifier: [UInt8])
    /// Malformed, unauthenticated or not NTS at all: send nothing.
    case drop(NTSServerRejection)
}

public enum NTSServerRejection: Error, Sendable, Hashable {
    case malformed(NTSPacketError)
    case missingUniqueIdentifier
    case missingCookie
    case multipleCookies
    case missingAuthenticator
    case authenticationFailed
    case malformedEncryptedFields(NTSPacketError)
    /// Even without cookies the answer would be larger than the request (no amplification).
    case responseWouldExceedRequest
}

/// The server side of NTS-protected NTP (RFC 8915 §5.7), without I/O.
public enum NTSServerHandler {
    public static let nonceByteCount = 16

    /// Decides what to do with a request: open its cookie with the keyset, check the
    /// authenticator with the C2S key the cookie holds.
    public static func authenticate(_ bytes: [UInt8], keyset: CookieKeyset) -> NTSServerDecision {
        let packet: NTSPacket
        do { packet = try NTSPacket(parsing: bytes) } catch { return .drop(.malformed(error)) }
        guard let uniqueIdentifier = packet.firstValue(ofType: ExtensionFieldType.ntsUniqueIdentifier) else {
            return .drop(.missingUniqueIdentifier)
        }
        let cookies = packet.fields.filter { $0.type == ExtensionFieldType.ntsCookie }
        guard let cookie = cookies.first else { return .drop(.missingCookie) }
        guard cookies.count == 1 else { return .drop(.multipleCookies) }
        guard let authenticator = packet.authenticator else { return .drop(.missingAuthenticator) }
        let opened: (aead: AEADAlgorithm, keys: NTSKeys)
        do {
            opened = try keyset.openCookie(cookie.value)
        } catch {
            return .nak(header: packet.header, uniqueIdentifier: uniqueIdentifier)
        }
        guard let c2s = try? AESSIV(algorithm: opened.aead, key: opened.keys.c2s) else {
            return .nak(header: packet.header, uniqueIdentifier: uniqueIdentifier)
        }
        let plaintext: [UInt8]
        do {
            plaintext = try c2s.open(authenticator.ciphertext, nonce: authenticator.nonce, associatedData: packet.authenticatedBytes)
        } catch {
            return .drop(.authenticationFailed)
        }
        let encrypted: [ExtensionField]
        do { encrypted = try scanFields(plaintext) } catch { return .drop(.malformedEncryptedFields(error)) }
        let placeholders = (packet.fields + encrypted).filter { $0.type == ExtensionFieldType.ntsCookiePlaceholder }.count
        return .respond(NTSAuthenticatedRequest(
            header: packet.header, uniqueIdentifier: uniqueIdentifier, aead: opened.aead, keys: opened.keys,
            cookiesWanted: 1 + min(placeholders, 7), requestByteCount: bytes.count
        ))
    }

    /// The response: `header` (the NTP answer the caller computed), the echoed Unique
    /// Identifier, and an authenticator sealing fresh cookies with the S2C key. Fewer cookies
    /// than wanted are sent when they would make the response larger than the request.
    public static func response(header: NTPHeader, to request: NTSAuthenticatedRequest, keyset: CookieKeyset, random: inout some NTSRandomSource) -> [UInt8] {
        var packet: [UInt8] = []
        header.write(to: &packet)
        ExtensionField(type: ExtensionFieldType.ntsUniqueIdentifier, value: request.uniqueIdentifier).write(to: &packet)
        let cookieFieldByteCount = ExtensionField(type: ExtensionFieldType.ntsCookie, value: [UInt8](repeating: 0, count: Cookie.byteCount(for: request.aead))).encodedByteCount
        let authenticatorOverhead = ExtensionField.headerByteCount + 4 + nonceByteCount + AESSIV.tagByteCount
        let room = request.requestByteCount - packet.count - authenticatorOverhead
        let cookieCount = max(0, min(request.cookiesWanted, room / cookieFieldByteCount))
        var cookieFields: [ExtensionField] = []
        for _ in 0..<cookieCount {
            let cookie = keyset.mintCookie(aead: request.aead, keys: request.keys, random: &random)
            cookieFields.append(ExtensionField(type: ExtensionFieldType.ntsCookie, value: cookie))
        }
        let nonce = random.bytes(nonceByteCount)
        guard let s2c = try? AESSIV(algorithm: request.aead, key: request.keys.s2c) else { return [] }
        let sealed = s2c.seal(encodeFields(cookieFields), nonce: nonce, associatedData: packet)
        NTSAuthenticator(nonce: nonce, ciphertext: sealed).field.write(to: &packet)
        return packet
    }

    /// An NTS NAK (RFC 8915 §5.7): a kiss-o'-death "NTSN" echoing the Unique Identifier and
    /// carrying no authenticator.
    public static func nak(respondingTo request: NTPHeader, uniqueIdentifier: [UInt8], transmit: NTPTimestamp) -> [UInt8] {
        var header = request
        header.leap = .unsynchronized
        header.mode = .server
        header.stratum = 0
        header.poll = request.poll
        header.precision = 0
        header.rootDelay = NTPShort(rawValue: 0)
        header.rootDispersion = NTPShort(rawValue: 0)
        header.referenceID = .kissNTSNak
        header.referenceTimestamp = NTPTimestamp(rawValue: 0)
        header.originTimestamp = request.transmitTimestamp
        header.receiveTimestamp = transmit
        header.transmitTimestamp = transmit
        var packet: [UInt8] = []
        header.write(to: &packet)
        ExtensionField(type: ExtensionFieldType.ntsUniqueIdentifier, value: uniqueIdentifier).write(to: &packet)
        return packet
    }
}
