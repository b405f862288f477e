/// What a successful NTS-KE exchange gives the client (RFC 8915 §4).
public struct NTSKEClientResult: Sendable, Hashable {
    public var nextProtocol: UInt16
    public var aead: AEADAlgorithm
    public var cookies: [[UInt8]]
    /// The NTP server to use when the KE server names one; otherwise the KE server's host.
    public var server: String?
    /// The NTP port to use when the KE server names one; otherwise 123.
    public var port: UInt16?
}

/// Why the client gave up on an NTS-KE response. Any of these means: discard everything
/// received on this connection.
public enum NTSKEClientError: Error, Sendable, Hashable {
    case record(NTSKERecordError)
    /// The server sent an Error record.
    case serverError(NTSKEErrorCode)
    /// The server sent a Warning record. RFC 8915 defines no warning codes, so none is
    /// understood, and an unrecognised warning ends the exchange.
    case serverWarning(UInt16)
    case unrecognizedCriticalRecord(type: UInt16)
    /// A known record whose body has the wrong shape (odd-length list, port not two bytes,
    /// empty cookie, non-ASCII server name).
    case malformedRecord(type: UInt16, length: Int)
    case duplicateRecord(type: UInt16)
    case missingNextProtocol
    /// The server answered with an empty Next Protocol list: it speaks none of ours.
    case noCommonProtocol
    /// The server chose something we did not offer, or more than one protocol.
    case unexpectedProtocol([UInt16])
    case missingAEAD
    case noCommonAEAD
    case unexpectedAEAD([UInt16])
    case noCookies
}

/// The client side of one NTS-KE exchange, without I/O: build the request bytes, feed the
/// response bytes as TLS delivers them, get the negotiated result or a typed error.
///
/// ```swift
/// var exchange = NTSKEClientExchange()
/// send(exchange.request)
/// while let chunk = read() { if let result = try exchange.receive(chunk) { ...; break } }
/// // on EOF without a result: try exchange.finish()  (throws the reason)
/// ```
/// Keys come from the TLS exporter: `NTSKeys.derive(exporterSecret:hash:aead:)`.
public struct NTSKEClientExchange: Sendable {
    public let offeredAlgorithms: [AEADAlgorithm]
    public let request: [UInt8]
    private var decoder: NTSKEMessageDecoder

    public init(offering algorithms: [AEADAlgorithm] = [.aesSIVCMAC256, .aesSIVCMAC512], limits: NTSKELimits = .standard) {
        offeredAlgorithms = algorithms
        let records: [NTSKERecord] = [
            .nextProtocols([NTSNextProtocol.ntpv4]),
            .aeadAlgorithms(algorithms.map(\.rawValue)),
            .endOfMessage,
        ]
        // Three small records cannot exceed the u16 body limit.
        request = records.serializedNTSKEMessage() ?? []
        decoder = NTSKEMessageDecoder(limits: limits)
    }

    /// Feeds response bytes; returns the result once the response is complete.
    public mutating func receive(_ bytes: some Collection<UInt8>) throws(NTSKEClientError) -> NTSKEClientResult? {
        let records: [NTSKERecord]?
        do { records = try decoder.receive(bytes) } catch { throw .record(error) }
        guard let records else { return nil }
        return try Self.interpret(records, offered: offeredAlgorithms)
    }

    /// The server closed the stream: returns the result if the response was complete, or
    /// throws why it was not.
    public func finish() throws(NTSKEClientError) -> NTSKEClientResult {
        let records: [NTSKERecord]
        do { records = try decoder.finish() } catch { throw .record(error) }
        return try Self.interpret(records, offered: offeredAlgorithms)
    }

    /// Applies RFC 8915 §4.1 to a complete response.
    public static func interpret(_ records: [NTSKERecord], offered: [AEADAlgorithm]) throws(NTSKEClientError) -> NTSKEClientResult {
        var protocols: [UInt16]?
        var algorithms: [UInt16]?
        var cookies: [[UInt8]] = []
        var server: String?
        var port: UInt16?
        for record in records {
            switch record.type {
            case NTSKERecordType.endOfMessage:
                break
            case NTSKERecordType.error:
                guard let code = record.u16Body() else { throw .malformedRecord(type: record.type, length: record.body.count) }
                throw .serverError(NTSKEErrorCode(rawValue: code))
            case NTSKERecordType.warning:
                guard let code = record.u16Body() else { throw .malformedRecord(type: record.type, length: record.body.count) }
                throw .serverWarning(code)
            case NTSKERecordType.nextProtocolNegotiation:
                guard protocols == nil else { throw .duplicateRecord(type: record.type) }
                guard let list = record.u16ListBody() else { throw .malformedRecord(type: record.type, length: record.body.count) }
                protocols = list
            case NTSKERecordType.aeadAlgorithmNegotiation:
                guard algorithms == nil else { throw .duplicateRecord(type: record.type) }
                guard let list = record.u16ListBody() else { throw .malformedRecord(type: record.type, length: record.body.count) }
                algorithms = list
            case NTSKERecordType.newCookie:
                guard !record.body.isEmpty else { throw .malformedRecord(type: record.type, length: 0) }
                cookies.append(record.body)
            case NTSKERecordType.serverNegotiation:
                guard server == nil else { throw .duplicateRecord(type: record.type) }
                guard let name = asciiHostName(record.body) else { throw .malformedRecord(type: record.type, length: record.body.count) }
                server = name
            case NTSKERecordType.portNegotiation:
                guard port == nil else { throw .duplicateRecord(type: record.type) }
                guard let value = record.u16Body() else { throw .malformedRecord(type: record.type, length: record.body.count) }
                port = value
            default:
                if record.isCritical { throw .unrecognizedCriticalRecord(type: record.type) }
            }
        }
        guard let protocols else { throw .missingNextProtocol }
        guard !protocols.isEmpty else { throw .noCommonProtocol }
        guard protocols == [NTSNextProtocol.ntpv4] else { throw .unexpectedProtocol(protocols) }
        guard let algorithms else { throw .missingAEAD }
        guard !algorithms.isEmpty else { throw .noCommonAEAD }
        guard algorithms.count == 1, let chosen = AEADAlgorithm(rawValue: algorithms[0]), offered.contains(chosen) else {
            throw .unexpectedAEAD(algorithms)
        }
        guard !cookies.isEmpty else { throw .noCookies }
        return NTSKEClientResult(nextProtocol: NTSNextProtocol.ntpv4, aead: chosen, cookies: cookies, server: server, port: port)
    }

    /// RFC 8915 §4.1.7: an ASCII host name or address literal. Control characters and spaces
    /// would let a hostile server smuggle text into logs, so they are refused too.
    static func asciiHostName(_ body: [UInt8]) -> String? {
        guard !body.isEmpty, body.count <= 255, body.allSatisfy({ (0x21...0x7E).contains($0) }) else { return nil }
        return String(decoding: body, as: UTF8.self)
    }
}
