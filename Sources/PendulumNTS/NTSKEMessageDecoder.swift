import PendulumWire

/// Bounds on what an NTS-KE endpoint accepts from its peer.
public struct NTSKELimits: Sendable, Hashable {
    /// chrony refuses NTS-KE messages above 16384 bytes; so do we.
    public var maximumMessageByteCount: Int = 16384
    public var maximumRecordCount: Int = 128
    /// No defined record needs more: cookies are capped at a few hundred bytes by every known
    /// implementation, host names at 255.
    public var maximumBodyByteCount: Int = 1024

    public init() {}
    public static let standard = NTSKELimits()
}

/// Reassembles one NTS-KE message from a TLS byte stream delivered in arbitrary chunks. Sans-IO:
/// the caller feeds bytes as they arrive and learns when End of Message has been seen. Limits
/// are enforced as soon as a violation is visible (a record header announcing an oversized body
/// is refused before the body arrives).
public struct NTSKEMessageDecoder: Sendable {
    public let limits: NTSKELimits
    private var buffer: [UInt8] = []
    private var parsedByteCount = 0
    private var records: [NTSKERecord] = []
    public private(set) var isComplete = false

    public init(limits: NTSKELimits = .standard) {
        self.limits = limits
    }

    /// Adds received bytes. Returns the complete message once End of Message has arrived, nil
    /// while more bytes are needed.
    public mutating func receive(_ bytes: some Collection<UInt8>) throws(NTSKERecordError) -> [NTSKERecord]? {
        if isComplete {
            guard bytes.isEmpty else { throw .dataAfterEndOfMessage(count: bytes.count) }
            return records
        }
        guard bytes.count <= limits.maximumMessageByteCount - buffer.count else {
            throw .messageTooLong(limit: limits.maximumMessageByteCount)
        }
        buffer.append(contentsOf: bytes)
        while buffer.count - parsedByteCount >= NTSKERecord.headerByteCount {
            let offset = parsedByteCount
            let typeField = buffer.bigEndianUInt16(at: offset)
            let type = typeField & NTSKERecord.maximumType
            let length = Int(buffer.bigEndianUInt16(at: offset + 2))
            guard length <= limits.maximumBodyByteCount else {
                throw .bodyTooLong(offset: offset, type: type, length: length, limit: limits.maximumBodyByteCount)
            }
            let bodyStart = offset + NTSKERecord.headerByteCount
            guard buffer.count - bodyStart >= length else { break }
            guard records.count < limits.maximumRecordCount else { throw .tooManyRecords(limit: limits.maximumRecordCount) }
            let record = NTSKERecord(isCritical: typeField & 0x8000 != 0, type: type, body: Array(buffer[bodyStart..<bodyStart + length]))
            records.append(record)
            parsedByteCount = bodyStart + length
            if type == NTSKERecordType.endOfMessage {
                guard length == 0 else { throw .endOfMessageWithBody(offset: offset, length: length) }
                isComplete = true
                guard parsedByteCount == buffer.count else { throw .dataAfterEndOfMessage(count: buffer.count - parsedByteCount) }
                buffer = []
                return records
            }
        }
        return nil
    }

    /// Call when the stream ends: explains why the message is incomplete, or returns it.
    public func finish() throws(NTSKERecordError) -> [NTSKERecord] {
        if isComplete { return records }
        let remaining = buffer.count - parsedByteCount
        if remaining == 0 { throw .missingEndOfMessage }
        if remaining < NTSKERecord.headerByteCount {
            throw .truncatedHeader(offset: parsedByteCount, available: remaining)
        }
        throw .truncatedBody(
            offset: parsedByteCount,
            type: buffer.bigEndianUInt16(at: parsedByteCount) & NTSKERecord.maximumType,
            declaredLength: Int(buffer.bigEndianUInt16(at: parsedByteCount + 2)),
            available: remaining - NTSKERecord.headerByteCount
        )
    }

    /// Decodes one complete message: exactly the records up to and including End of Message.
    public static func decodeMessage(_ bytes: [UInt8], limits: NTSKELimits = .standard) throws(NTSKERecordError) -> [NTSKERecord] {
        var decoder = NTSKEMessageDecoder(limits: limits)
        if let records = try decoder.receive(bytes) { return records }
        return try decoder.finish()
    }
}
