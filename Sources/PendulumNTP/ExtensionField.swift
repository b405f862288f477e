import PendulumWire

/// An NTPv4 extension field (RFC 7822): a 16-bit type, a 16-bit length covering the whole
/// field, and a value padded to a multiple of four bytes.
public struct ExtensionField: Sendable, Hashable {
    public var type: UInt16
    /// The value as it stands on the wire, including any padding. Serialisation pads it with
    /// zeros to a multiple of four and to the 16-byte minimum field size.
    public var value: [UInt8]

    public init(type: UInt16, value: [UInt8]) {
        self.type = type
        self.value = value
    }

    public static let headerByteCount = 4
    /// RFC 7822 §3: no field is shorter than 16 bytes.
    public static let minimumByteCount = 16

    /// The number of bytes this field occupies when serialised.
    public var encodedByteCount: Int {
        let padded = (Self.headerByteCount + value.count + 3) & ~3
        return Swift.max(padded, Self.minimumByteCount)
    }

    public func write(to buffer: inout [UInt8]) {
        let length = encodedByteCount
        buffer.appendBigEndian(type)
        buffer.appendBigEndian(UInt16(truncatingIfNeeded: length))
        buffer.append(contentsOf: value)
        buffer.append(contentsOf: repeatElement(0, count: length - Self.headerByteCount - value.count))
    }
}

/// Well-known extension field types.
public enum ExtensionFieldType {
    public static let ntsUniqueIdentifier: UInt16 = 0x0104
    public static let ntsCookie: UInt16 = 0x0204
    public static let ntsCookiePlaceholder: UInt16 = 0x0304
    public static let ntsAuthenticator: UInt16 = 0x0404
}

/// The legacy symmetric-key MAC that may follow the header or the extension fields: a 32-bit
/// key id and a 16-byte (MD5) or 20-byte (SHA-1) digest.
public struct LegacyMAC: Sendable, Hashable {
    public var keyID: UInt32
    public var digest: [UInt8]

    public init(keyID: UInt32, digest: [UInt8]) {
        self.keyID = keyID
        self.digest = digest
    }

    /// The two MAC sizes RFC 7822 §7.5 tells apart from extension fields by length.
    public static let validByteCounts: Set<Int> = [20, 24]
}
