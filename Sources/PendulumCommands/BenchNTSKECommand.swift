import ArgumentParser
import Foundation
import NIOCore
import PendulumNTS
import PendulumNTSKE

/// `pendulum bench ntske`: complete NTS-KE exchanges per second against an in-process server
/// on loopback (TLS 1.3 handshake, negotiation, exporter, 8 cookies).
@available(macOS 13, *)
struct BenchNTSKECommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ntske",
        abstract: "Measure NTS-KE exchanges per second on loopback."
    )

    @Option(help: "PEM certificate chain for the loopback server (must name 127.0.0.1).")
    var certificateChainPath: String

    @Option(help: "PEM private key for the loopback server.")
    var privateKeyPath: String

    @Option(help: "Number of exchanges.")
    var count: Int = 200

    @Option(help: "Exchanges in flight at once.")
    var concurrency: Int = 4

    func run() async throws {
        var random = SystemRandomSource()
        let keyset = CookieKeyset.generate(now: 0, random: &random)
        let negotiation = NTSKEServerNegotiation()
        var limits = NTSKEServerLimits()
        limits.maximumConcurrentConnections = max(128, concurrency * 2)
        let server = try await NTSKEServerListener.start(
            host: "127.0.0.1", port: 0, certificateChainPath: certificateChainPath, privateKeyPath: privateKeyPath,
            limits: limits,
            isCompleteRequest: { bytes in
                var decoder = NTSKEMessageDecoder()
                return (try? decoder.receive(bytes)) != nil
            },
            respond: { request, secret in
                Self.answer(request, exporterSecret: secret, negotiation: negotiation, keyset: keyset)
            }
        )
        guard let port = server.localAddress?.port else { throw ValidationError("server did not bind") }
        let total = max(1, count)
        let lanes = max(1, min(concurrency, total))
        let clock = ContinuousClock()
        let start = clock.now
        let failures = try await withThrowingTaskGroup(of: Int.self) { group in
            for lane in 0..<lanes {
                let share = total / lanes + (lane < total % lanes ? 1 : 0)
                group.addTask {
                    var failed = 0
                    for _ in 0..<share {
                        do {
                            let session = try await NTSKEClient.establish(host: "127.0.0.1", port: port, caFile: certificateChainPath)
                            if session.result.cookies.count != 8 { failed += 1 }
                        } catch {
                            failed += 1
                        }
                    }
                    return failed
                }
            }
            return try await group.reduce(0, +)
        }
        let elapsed = clock.now - start
        try await server.close()
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print(String(format: "%d NTS-KE exchanges (%d in flight) in %.2f s: %.0f exchanges/s, %d failed",
                     total, lanes, seconds, Double(total) / seconds, failures))
    }

    /// The server side of one exchange, as pendulum-ntpd does it: negotiate, derive the keys
    /// from the connection's exporter secret, mint 8 cookies.
    static func answer(_ request: [UInt8], exporterSecret: [UInt8], negotiation: NTSKEServerNegotiation, keyset: CookieKeyset) -> [UInt8] {
        let agreement: NTSKEAgreement
        switch negotiation.evaluate(requestBytes: request) {
        case .agreed(let agreed): agreement = agreed
        case .refuse(let response, _): return response
        }
        guard let hash = TLSKeyLog.hash(forSecretLength: exporterSecret.count) else {
            return NTSKEServerNegotiation.errorResponse(.internalServerError)
        }
        var random = SystemRandomSource()
        let keys = NTSKeys.derive(exporterSecret: exporterSecret, hash: hash, nextProtocol: agreement.nextProtocol, aead: agreement.aead)
        let cookies = (0..<negotiation.cookieCount).map { _ in keyset.mintCookie(aead: agreement.aead, keys: keys, random: &random) }
        return negotiation.response(for: agreement, cookies: cookies)
    }
}
