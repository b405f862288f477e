import PendulumNTP

/// Where the parts of an NTS request lie in its datagram, found by one walk over the bytes in
/// place: what the serving path needs to answer without copying the request into arrays.
///
/// The walk applies `NTPPacket(parsing:)`'s rules for what follows the header (RFC 7822
/// extension fields of at least 16 bytes, four-byte aligned, inside the packet) and reads the
/// NTS fields the way `NTSPacket` does. It declines (nil) every datagram those two might read
/// differently, so the general path decides those, and one that is not NTS at all.
public struct NTSRequestLayout: Sendable, Hashable {
    /// The first Unique Identifier field before the authenticator, whole (type, length, value):
    /// the response echoes it byte for byte.
    public var uniqueIdentifierField: Range<Int>?
    /// The value of the first cookie field before the authenticator.
    public var cookie: Range<Int>?
    public var cookieCount: Int
    public var placeholderCount: Int
    /// Where the first authenticator field starts: everything before it is associated data.
    public var authenticatorOffset: Int?
    /// The authenticator's value (nonce and ciphertext lengths, nonce, ciphertext, padding).
    public var authenticatorValue: Range<Int>?

    /// nil unless `request` is a version 4 packet whose body walks cleanly as extension fields
    /// and holds a Unique Identifier field somewhere (which is what makes a request NTS).
    public init?(request: UnsafeRawBufferPointer) {
        guard request.count > NTPHeader.byteCount, (request[0] >> 3) & 0x7 == 4 else { return nil }
        var offset = NTPHeader.byteCount
        var sawUniqueIdentifier = false
        uniqueIdentifierField = nil
        cookie = nil
        cookieCount = 0
        placeholderCount = 0
        authenticatorOffset = nil
        authenticatorValue = nil
        while offset < request.count {
            let remaining = request.count - offset
            // 20 or 24 trailing bytes would be read as a legacy MAC: not the fast path's business.
            guard remaining != 20, remaining != 24, remaining >= ExtensionField.minimumByteCount else { return nil }
            let type = UInt16(request[offset]) << 8 | UInt16(request[offset + 1])
            let length = Int(request[offset + 2]) << 8 | Int(request[offset + 3])
            guard length >= ExtensionField.minimumByteCount, length % 4 == 0, length <= remaining else { return nil }
            let field = offset..<offset + length
            let value = offset + ExtensionField.headerByteCount..<offset + length
            if type == ExtensionFieldType.ntsUniqueIdentifier { sawUniqueIdentifier = true }
            if authenticatorOffset == nil {
                switch type {
                case ExtensionFieldType.ntsUniqueIdentifier where uniqueIdentifierField == nil:
                    uniqueIdentifierField = field
                case ExtensionFieldType.ntsCookie:
                    if cookie == nil { cookie = value }
                    cookieCount += 1
                case ExtensionFieldType.ntsCookiePlaceholder:
                    placeholderCount += 1
                case ExtensionFieldType.ntsAuthenticator:
                    authenticatorOffset = offset
                    authenticatorValue = value
                default:
                    break
                }
            }
            offset += length
        }
        guard sawUniqueIdentifier else { return nil }
    }
}

/// The parts of an authenticator's value (RFC 8915 §5.6): nonce and ciphertext (synthetic IV
/// first) within the value, found in place. `NTSAuthenticator(parsing:)` reads through it too.
struct NTSAuthenticatorLayout {
    var nonce: Range<Int>
    var sealed: Range<Int>

    init(request: UnsafeRawBufferPointer, value: Range<Int>) throws(NTSPacketError) {
        guard value.count >= 4 else { throw .authenticatorMalformed(nonceLength: 0, ciphertextLength: 0, bodyLength: value.count) }
        let start = value.lowerBound
        let nonceLength = Int(request[start]) << 8 | Int(request[start + 1])
        let ciphertextLength = Int(request[start + 2]) << 8 | Int(request[start + 3])
        let ciphertextStart = 4 + padded(nonceLength)
        guard ciphertextLength >= AESSIV.tagByteCount, nonceLength > 0, ciphertextStart + ciphertextLength <= value.count else {
            throw .authenticatorMalformed(nonceLength: nonceLength, ciphertextLength: ciphertextLength, bodyLength: value.count)
        }
        nonce = start + 4..<start + 4 + nonceLength
        sealed = start + ciphertextStart..<start + ciphertextStart + ciphertextLength
    }
}
