import PendulumNTP

/// Why bytes were not accepted as an NTS-protected NTP packet. Every malformed input maps to
/// one of these; none of them is a trap.
public enum NTSPacketError: Error, Sendable, Hashable {
    case header(NTPPacketError)
    /// Fewer than 4 bytes where an extension field header should be.
    case fieldHeaderTruncated(offset: Int, available: Int)
    /// A field length below 4 or not a multiple of 4.
    case fieldLengthInvalid(offset: Int, length: Int)
    case fieldOverrunsPacket(offset: Int, length: Int, available: Int)
    /// The authenticator's nonce and ciphertext lengths do not fit its body, or the ciphertext
    /// is shorter than the AEAD tag.
    case authenticatorMalformed(nonceLength: Int, ciphertextLength: Int, bodyLength: Int)
}

extension NTSPacketError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .header(let error): "\(error)"
        case .fieldHeaderTruncated(let offset, let available): "extension field header at byte \(offset) truncated: \(available) bytes"
        case .fieldLengthInvalid(let offset, let length): "extension field at byte \(offset) has invalid length \(length)"
        case .fieldOverrunsPacket(let offset, let length, let available): "extension field at byte \(offset) claims \(length) bytes, \(available) remain"
        case .authenticatorMalformed(let nonce, let ciphertext, let body):
            "NTS authenticator declares a \(nonce)-byte nonce and \(ciphertext)-byte ciphertext in a \(body)-byte body"
        }
    }
}
