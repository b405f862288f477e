import ArgumentParser
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
        let server = try await NTSKEServer.start(
            NTSKEServerConfiguration(host: "127.0.0.1", port: 0, certificateChainPath: certificateChainPath, privateKeyPath: privateKeyPath,
                                     maximumConnections: max(128, concurrency * 2)),
            keyset: { keyset }
        )
        guard let port = server.port else { throw ValidationError("server did not bind") }
        let client = NTSKEClientConfiguration(host: "127.0.0.1", port: port, caFile: certificateChainPath)
        let total = max(1, count)
        let lanes = max(1, min(concurrency, total))
        let clock = ContinuousClock()
        let start = clock.now
        let failures = try await withThrowingTaskGroup(of: Int.self) { group in
            for lane in 0..<lanes {
                group.addTask {
                    var failed = 0
                    for _ in stride(from: lane, to: total, by: lanes) {
                        do {
                            let outcome = try await NTSKEClient.exchange(client)
                            if outcome.result.cookies.count != 8 { failed += 1 }
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
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        try await server.close()
        print("NTS-KE exchanges: \(total) in \(String(Int((seconds * 1000).rounded()))) ms with \(lanes) in flight, \(failures) failed")
        print("exchanges per second: \(Int((Double(total - failures) / seconds).rounded()))")
    }
}
