#if canImport(Glibc)
import Glibc
#endif
import PendulumDaemonConfig
import PendulumNTS
import PendulumNTSKE

/// The NTS-KE side: TLS from `NTSKEServerListener`, negotiation from
/// `NTSKEServerNegotiation`, cookies sealed with the keyset the NTP side will open them with.
enum NTSKEService {
    /// `maximumConnections`: the section's `max-connections`, lowered to what the descriptor
    /// limit allows; `log` gets overloads and accept failures, one line as each starts and ends.
    static func start(
        _ section: NTSKEServerSection, state: ServingState, maximumConnections: Int, acceptBatch: Int,
        log: @escaping @Sendable (_ warning: Bool, _ message: String) -> Void
    ) async throws(DaemonError) -> NTSKEServerListener {
        // TLS libraries report a missing file as a bare "failed to load"; say which and why.
        for (key, path) in [("certificate-chain-path", section.certificateChainPath), ("private-key-path", section.privateKeyPath)] {
            if access(path, R_OK) != 0 {
                throw .startup("nts-ke-server \(section.listen): \(key) \(path): \(String(cString: strerror(errno)))")
            }
        }
        let negotiation = NTSKEServerNegotiation(ntpServer: section.ntpServer, ntpPort: section.ntpPort)
        var limits = NTSKEServerLimits()
        limits.connectionTimeout = .seconds(section.timeoutSeconds)
        limits.maximumConcurrentConnections = maximumConnections
        limits.acceptBatch = acceptBatch
        limits.maximumConnectionsPerAddress = section.maximumConnectionsPerAddress
        limits.maximumConnectionsPerPrefix = section.maximumConnectionsPerNetwork
        limits.prefixRateInterval = .milliseconds(section.rateLimitIntervalMilliseconds)
        limits.prefixRateBurst = section.rateLimitBurst
        let listen = section.listen
        do {
            return try await NTSKEServerListener.start(
                host: section.listen.ipString, port: Int(section.listen.port),
                certificateChainPath: section.certificateChainPath, privateKeyPath: section.privateKeyPath,
                limits: limits,
                isCompleteRequest: { (try? NTSKEMessageDecoder.decodeMessage($0)) != nil },
                respond: { request, exporterSecret in
                    respond(to: request, exporterSecret: exporterSecret, negotiation: negotiation, state: state)
                },
                onEvent: { event in
                    switch event {
                    case .overloaded, .acceptFailing: log(true, "nts-ke \(listen): \(event)")
                    case .overloadEnded, .acceptRecovered: log(false, "nts-ke \(listen): \(event)")
                    }
                }
            )
        } catch {
            throw .startup("cannot start the NTS-KE server on \(section.listen) (certificate \(section.certificateChainPath), key \(section.privateKeyPath)): \(error)")
        }
    }

    static func respond(to request: [UInt8], exporterSecret: [UInt8], negotiation: NTSKEServerNegotiation, state: ServingState) -> [UInt8] {
        switch negotiation.evaluate(requestBytes: request) {
        case .refuse(let response, _):
            return response
        case .agreed(let agreement):
            guard let keyset = state.keyset, !exporterSecret.isEmpty else {
                return NTSKEServerNegotiation.errorResponse(.internalServerError)
            }
            let hash: TLSExporter.Hash = exporterSecret.count == 48 ? .sha384 : .sha256
            let keys = NTSKeys.derive(exporterSecret: exporterSecret, hash: hash, nextProtocol: agreement.nextProtocol, aead: agreement.aead)
            var random = SystemRandomSource()
            let cookies = (0..<negotiation.cookieCount).map { _ in keyset.mintCookie(aead: agreement.aead, keys: keys, random: &random) }
            return negotiation.response(for: agreement, cookies: cookies)
        }
    }
}
