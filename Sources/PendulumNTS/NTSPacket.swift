import PendulumNTP
import PendulumWire

/// The NTS Authenticator and Encrypted Extension Fields field (RFC 8915 §5.6):
/// nonce length u16 ‖ ciphertext length u16 ‖ nonce (padded to 4) ‖ ciphertext (padded to 4) ‖
/// additional padding.
public struct NTSAuthenticator: Sendable, Hashable {
    public var nonce: [UInt8]
    /// Synthetic IV followed by the encrypted extension fields.
    public var ciphertext: [UInt8]

    public init(nonce: [UInt8], ciphertext: [UInt8]) {
        self.nonce = nonce
        self.ciphertext = ciphertext
    }

    init(parsing body: [UInt8]) throws(NTSPacketError) {
        let parts = try body.withUnsafeBytes { raw in
            Result { () throws(NTSPacketError) in try NTSAuthenticatorLayout(request: raw, value: 0..<raw.count) }
        }.get()
        nonce = Array(body[parts.nonce])
        ciphertext = Array(body[parts.sealed])
    }

    var field: ExtensionField {
        var body: [UInt8] = []
        body.appendBigEndian(UInt16(truncatingIfNeeded: nonce.count))
        body.appendBigEndian(UInt16(truncatingIfNeeded: ciphertext.count))
        body += nonce
        body += repeatElement(0, count: padded(nonce.count) - nonce.count)
        body += ciphertext
        return ExtensionField(type: ExtensionFieldType.ntsAuthenticator, value: body)
    }
}

func padded(_ count: Int) -> Int { (count + 3) & ~3 }

/// An NTP packet read the way NTS needs it (RFC 8915 §5): the header, the extension fields
/// before the authenticator (all covered by it as associated data), the authenticator, and
/// nothing after it — whatever follows the authenticator is ignored, as the RFC says.
public struct NTSPacket: Sendable, Hashable {
    public var header: NTPHeader
    /// The extension fields before the authenticator (all of them when there is none).
    public var fields: [ExtensionField]
    public var authenticator: NTSAuthenticator?
    /// The bytes the authenticator's associated data covers: header and preceding fields.
    public var authenticatedBytes: [UInt8]

    public init(parsing bytes: [UInt8]) throws(NTSPacketError) {
        do {
            header = try NTPPacket(parsing: Array(bytes.prefix(NTPHeader.byteCount))).header
        } catch {
            throw .header(error)
        }
        var fields: [ExtensionField] = []
        var offset = NTPHeader.byteCount
        var authenticator: NTSAuthenticator?
        var authenticatedCount = bytes.count
        while offset < bytes.count, authenticator == nil {
            let (field, length) = try scanField(bytes, at: offset)
            if field.type == ExtensionFieldType.ntsAuthenticator {
                authenticator = try NTSAuthenticator(parsing: field.value)
                authenticatedCount = offset
            } else {
                fields.append(field)
            }
            offset += length
        }
        self.fields = fields
        self.authenticator = authenticator
        self.authenticatedBytes = Array(bytes.prefix(authenticatedCount))
    }

    /// The value of the first field of `type`, if any.
    public func firstValue(ofType type: UInt16) -> [UInt8]? {
        fields.first { $0.type == type }?.value
    }
}

/// Reads one extension field at `offset`: type u16, length u16 (whole field, multiple of 4).
func scanField(_ bytes: [UInt8], at offset: Int) throws(NTSPacketError) -> (ExtensionField, Int) {
    let (type, length) = try bytes.withUnsafeBytes { raw in
        Result { () throws(NTSPacketError) in try extensionFieldHeader(in: raw, at: offset) }
    }.get()
    return (ExtensionField(type: type, value: Array(bytes[(offset + 4)..<(offset + length)])), length)
}

/// The type and length of the extension field at `offset`, checked to lie within `bytes`: the
/// rules every NTS field reader shares, in place.
func extensionFieldHeader(in bytes: UnsafeRawBufferPointer, at offset: Int) throws(NTSPacketError) -> (type: UInt16, length: Int) {
    let available = bytes.count - offset
    guard available >= ExtensionField.headerByteCount else { throw .fieldHeaderTruncated(offset: offset, available: available) }
    let type = UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    let length = Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
    guard length >= ExtensionField.headerByteCount, length % 4 == 0 else { throw .fieldLengthInvalid(offset: offset, length: length) }
    guard length <= available else { throw .fieldOverrunsPacket(offset: offset, length: length, available: available) }
    return (type, length)
}

/// Reads a whole buffer as a sequence of extension fields (the decrypted contents of an
/// authenticator).
func scanFields(_ bytes: [UInt8]) throws(NTSPacketError) -> [ExtensionField] {
    var fields: [ExtensionField] = []
    var offset = 0
    while offset < bytes.count {
        let (field, length) = try scanField(bytes, at: offset)
        fields.append(field)
        offset += length
    }
    return fields
}

func encodeFields(_ fields: [ExtensionField]) -> [UInt8] {
    var bytes: [UInt8] = []
    for field in fields { field.write(to: &bytes) }
    return bytes
}
