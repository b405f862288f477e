/// What client and server agreed on; the server then derives keys and mints cookies for it.
public struct NTSKEAgreement: Sendable, Hashable {
    public var nextProtocol: UInt16
    public var aead: AEADAlgorithm
}

/// Why a request was not answered with cookies. `response` in `NTSKEServerDecision.refuse`
/// tells the client.
public enum NTSKERequestProblem: Error, Sendable, Hashable {
    case record(NTSKERecordError)
    case unrecognizedCriticalRecord(type: UInt16)
    case malformedRecord(type: UInt16, length: Int)
    case duplicateRecord(type: UInt16)
    /// Records only a server may send (Error, Warning) or that make no sense in a request.
    case unexpectedRecord(type: UInt16)
    case missingNextProtocol
    case missingAEAD
    case noCommonProtocol
    case noCommonAEAD
}

public enum NTSKEServerDecision: Sendable, Hashable {
    /// Derive the keys for this agreement, mint cookies, then call `response(for:cookies:)`.
    case agreed(NTSKEAgreement)
    /// Send these bytes and close.
    case refuse(response: [UInt8], problem: NTSKERequestProblem)
}

/// The server side of NTS-KE without I/O (RFC 8915 §4.1): judge a request, and build the
/// response.
public struct NTSKEServerNegotiation: Sendable {
    /// Algorithms this server accepts; the client's order of preference decides among them.
    public var supportedAlgorithms: [AEADAlgorithm]
    /// Sent as a Server record when set (the NTP server is elsewhere than the KE server).
    public var ntpServer: String?
    /// Sent as a Port record when set.
    public var ntpPort: UInt16?
    public var cookieCount: Int

    public init(supportedAlgorithms: [AEADAlgorithm] = [.aesSIVCMAC256, .aesSIVCMAC512], ntpServer: String? = nil, ntpPort: UInt16? = nil, cookieCount: Int = 8) {
        self.supportedAlgorithms = supportedAlgorithms
        self.ntpServer = ntpServer
        self.ntpPort = ntpPort
        self.cookieCount = cookieCount
    }

    /// Judges request bytes (a complete message or a record-layer failure).
    public func evaluate(requestBytes: [UInt8], limits: NTSKELimits = .standard) -> NTSKEServerDecision {
        do {
            return evaluate(try NTSKEMessageDecoder.decodeMessage(requestBytes, limits: limits))
        } catch {
            return .refuse(response: Self.errorResponse(.badRequest), problem: .record(error))
        }
    }

    public func evaluate(_ records: [NTSKERecord]) -> NTSKEServerDecision {
        var protocols: [UInt16]?
        var algorithms: [UInt16]?
        func refuse(_ code: NTSKEErrorCode, _ problem: NTSKERequestProblem) -> NTSKEServerDecision {
            .refuse(response: Self.errorResponse(code), problem: problem)
        }
        for record in records {
            switch record.type {
            case NTSKERecordType.endOfMessage:
                break
            case NTSKERecordType.nextProtocolNegotiation:
                guard protocols == nil else { return refuse(.badRequest, .duplicateRecord(type: record.type)) }
                guard let list = record.u16ListBody() else { return refuse(.badRequest, .malformedRecord(type: record.type, length: record.body.count)) }
                protocols = list
            case NTSKERecordType.aeadAlgorithmNegotiation:
                guard algorithms == nil else { return refuse(.badRequest, .duplicateRecord(type: record.type)) }
                guard let list = record.u16ListBody() else { return refuse(.badRequest, .malformedRecord(type: record.type, length: record.body.count)) }
                algorithms = list
            case NTSKERecordType.error, NTSKERecordType.warning:
                return refuse(.badRequest, .unexpectedRecord(type: record.type))
            case NTSKERecordType.newCookie, NTSKERecordType.serverNegotiation, NTSKERecordType.portNegotiation:
                // A client may suggest a server or port (RFC 8915 §4.1.7–8); this server
                // decides itself, so suggestions are read past.
                break
            default:
                if record.isCritical { return refuse(.unrecognizedCriticalRecord, .unrecognizedCriticalRecord(type: record.type)) }
            }
        }
        guard let protocols else { return refuse(.badRequest, .missingNextProtocol) }
        guard protocols.contains(NTSNextProtocol.ntpv4) else {
            return .refuse(response: Self.message([.nextProtocols([]), .endOfMessage]), problem: .noCommonProtocol)
        }
        guard let algorithms else { return refuse(.badRequest, .missingAEAD) }
        guard let chosen = algorithms.lazy.compactMap(AEADAlgorithm.init(rawValue:)).first(where: supportedAlgorithms.contains) else {
            return .refuse(
                response: Self.message([.nextProtocols([NTSNextProtocol.ntpv4]), .aeadAlgorithms([]), .endOfMessage]),
                problem: .noCommonAEAD
            )
        }
        return .agreed(NTSKEAgreement(nextProtocol: NTSNextProtocol.ntpv4, aead: chosen))
    }

    /// The successful response: Next Protocol, AEAD, the cookies, optional Server and Port,
    /// End of Message.
    public func response(for agreement: NTSKEAgreement, cookies: [[UInt8]]) -> [UInt8] {
        var records: [NTSKERecord] = [.nextProtocols([agreement.nextProtocol]), .aeadAlgorithms([agreement.aead.rawValue])]
        records += cookies.map(NTSKERecord.newCookie)
        if let ntpServer { records.append(.server(ntpServer)) }
        if let ntpPort { records.append(.port(ntpPort)) }
        records.append(.endOfMessage)
        return Self.message(records)
    }

    public static func errorResponse(_ code: NTSKEErrorCode) -> [UInt8] {
        message([.error(code), .endOfMessage])
    }

    private static func message(_ records: [NTSKERecord]) -> [UInt8] {
        // Every record built here has a body far below 65535 bytes.
        records.serializedNTSKEMessage() ?? []
    }
}
