import PendulumWire

/// An NTP packet: the header, any extension fields and an optional legacy MAC.
public struct NTPPacket: Sendable, Hashable {
    public var header: NTPHeader
    public var extensionFields: [ExtensionField]
    public var mac: LegacyMAC?

    public init(header: NTPHeader, extensionFields: [ExtensionField] = [], mac: LegacyMAC? = nil) {
        self.header = header
        self.extensionFields = extensionFields
        self.mac = mac
    }

    /// Parses a datagram. Strict and total: anything that is not a well-formed NTP version 1–4
    /// packet in modes 1–5 throws, with the reason.
    ///
    /// What follows the header is read as RFC 7822 §7.5 says: exactly 20 or 24 remaining bytes
    /// are a legacy MAC; anything else must be an extension field.
    public init(parsing bytes: [UInt8]) throws(NTPPacketError) {
        var reader = BigEndianReader(bytes)
        header = try NTPHeader(reading: &reader)
        guard (1...4).contains(header.version) else { throw .unsupportedVersion(header.version) }
        switch header.mode {
        case .reserved, .control, .privateUse: throw .unsupportedMode(header.mode)
        default: break
        }
        extensionFields = []
        mac = nil
        while reader.remaining > 0 {
            let offset = reader.position
            if LegacyMAC.validByteCounts.contains(reader.remaining) {
                let keyID = reader.readUInt32()
                mac = LegacyMAC(keyID: keyID, digest: reader.readBytes(reader.remaining))
                break
            }
            guard header.version == 4 else { throw .extensionFieldsBeforeVersion4(version: header.version) }
            guard reader.remaining >= ExtensionField.minimumByteCount else {
                throw .trailingBytes(offset: offset, count: reader.remaining)
            }
            let length = Int(reader.peekUInt16(at: 2))
            guard length >= ExtensionField.minimumByteCount else {
                throw .extensionFieldTooShort(offset: offset, length: length)
            }
            guard length % 4 == 0 else { throw .extensionFieldMisaligned(offset: offset, length: length) }
            guard length <= reader.remaining else {
                throw .extensionFieldOverrunsPacket(offset: offset, length: length, available: reader.remaining)
            }
            let type = reader.readUInt16()
            _ = reader.readUInt16()
            extensionFields.append(ExtensionField(type: type, value: reader.readBytes(length - ExtensionField.headerByteCount)))
        }
    }

    /// The wire form. For any packet that `init(parsing:)` accepted, this reproduces the parsed
    /// bytes exactly.
    public func serialized() -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(encodedByteCount)
        header.write(to: &buffer)
        for field in extensionFields { field.write(to: &buffer) }
        if let mac {
            buffer.appendBigEndian(mac.keyID)
            buffer.append(contentsOf: mac.digest)
        }
        return buffer
    }

    public var encodedByteCount: Int {
        NTPHeader.byteCount + extensionFields.reduce(0) { $0 + $1.encodedByteCount } + (mac.map { 4 + $0.digest.count } ?? 0)
    }
}
