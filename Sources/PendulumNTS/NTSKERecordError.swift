/// Why bytes were not accepted as an NTS-KE message at the record layer. Every malformed input
/// maps to one of these; none of them is a trap.
public enum NTSKERecordError: Error, Sendable, Hashable {
    /// The input ended inside a record header (fewer than 4 bytes left).
    case truncatedHeader(offset: Int, available: Int)
    /// The input ended inside a record body.
    case truncatedBody(offset: Int, type: UInt16, declaredLength: Int, available: Int)
    /// A record body longer than this endpoint accepts for its type.
    case bodyTooLong(offset: Int, type: UInt16, length: Int, limit: Int)
    /// The whole message exceeds the message size limit (16384 bytes by default, as chrony).
    case messageTooLong(limit: Int)
    /// More records than the record count limit.
    case tooManyRecords(limit: Int)
    /// An End of Message record with a non-empty body.
    case endOfMessageWithBody(offset: Int, length: Int)
    /// Bytes after End of Message: the peer may send nothing more on this connection.
    case dataAfterEndOfMessage(count: Int)
    /// The input ended (connection closed) before End of Message.
    case missingEndOfMessage
}

extension NTSKERecordError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .truncatedHeader(let offset, let available):
            "NTS-KE record header at byte \(offset) truncated: \(available) of 4 bytes"
        case .truncatedBody(let offset, let type, let declared, let available):
            "NTS-KE record type \(type) at byte \(offset) declares \(declared) body bytes, \(available) present"
        case .bodyTooLong(let offset, let type, let length, let limit):
            "NTS-KE record type \(type) at byte \(offset) has a \(length)-byte body, limit \(limit)"
        case .messageTooLong(let limit):
            "NTS-KE message longer than \(limit) bytes"
        case .tooManyRecords(let limit):
            "NTS-KE message has more than \(limit) records"
        case .endOfMessageWithBody(let offset, let length):
            "NTS-KE End of Message at byte \(offset) has a \(length)-byte body"
        case .dataAfterEndOfMessage(let count):
            "\(count) bytes after NTS-KE End of Message"
        case .missingEndOfMessage:
            "NTS-KE message ended without End of Message"
        }
    }
}
