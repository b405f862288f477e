#if canImport(Glibc)
import Glibc
#endif
import PendulumDaemonConfig
import PendulumNTS
import PendulumNTSKE

/// The NTS-KE side: TLS from `NTSKEServerListener`, negotiation from
/// `NTSKEServerNegotiation`, cookies sealed with the keyset the NTP side will open them with.
enum NTSKEService {
    static func start(_ section: NTSKEServerSection, state: ServingState) async throws(DaemonError) -> NTSKEServerListener {
        // TLS libraries report a missing file as a bare "failed to load"; say which and why.
        for (key, path) in [("certificate-chain-path", section.certificateChainPath), ("private-key-path", section.privateKeyPath)] {
            if access(path, R_OK) != 0 {
                throw .startup("nts-ke-server \(section.listen): \(key) \(path): \(String(cString: strerror(errno)))")
            }
        }
        let negotiation = NTSKEServerNegotiation(ntpServer: section.ntpServer, ntpPort: section.ntpPort)
        var limits = NTSKEServerLimits()
        limits.connectionTimeout = .seconds(section.timeoutSeconds)
        limits.maximumConcurrentConnections = section.maximumConnections
        do {
            return try await NTSKEServerListener.start(
                host: section.listen.ipString, port: Int(section.listen.port),
                certificateChainPath: section.certificateChainPath, privateKeyPath: section.privateKeyPath,
                limits: limits,
                isCompleteRequest: { (try? NTSKEMessageDecoder.decodeMessage($0)) != nil },
                respond: { request, exporterSecret in
                    respond(to: request, exporterSecret: exporterSecret, negotiation: negotiation, state: state)
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
