/// Why a datagram is not a PTP message we can read. Every malformed input maps to one case;
/// the parser never traps.
public enum PTPMessageError: Error, Sendable, Hashable {
    /// Fewer than 34 bytes: not even a header.
    case truncatedHeader(byteCount: Int)
    /// versionPTP other than 2.
    case unsupportedVersion(UInt8)
    /// A messageType value Table 36 reserves.
    case unknownMessageType(UInt8)
    /// messageLength claims more bytes than the datagram holds.
    case messageLengthExceedsDatagram(messageLength: Int, datagramLength: Int)
    /// messageLength is shorter than the fixed body of the message type.
    case messageLengthTooShort(type: PTPMessageType, messageLength: Int)
    /// Between 1 and 3 bytes left after the body or the last TLV: no room for a TLV header.
    case truncatedTLVHeader(offset: Int)
    /// A TLV's lengthField runs past messageLength.
    case tlvOverrunsMessage(offset: Int, tlvLength: Int, remaining: Int)
}
