import ArgumentParser
import Foundation
import Pendulum
import PendulumIO
import PendulumNTP
import PendulumNTS
import PendulumNTSKE
import PendulumTime

/// `pendulum query HOST`: measure one server's offset and delay, once.
@available(macOS 13, *)
struct QueryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Measure the offset and delay of an NTP server.",
        discussion: """
            Sends a few client requests, ignores any reply that does not answer them, and reports \
            the sample with the smallest delay. Exits non-zero with one line on stderr when the \
            name does not resolve, nothing answers in time, the server sends a kiss-o'-death or \
            says it is unsynchronised.
            """
    )

    @Argument(help: "Server name or IPv4/IPv6 address.")
    var host: String

    @Option(help: "NTP server port (default 123; with --nts, what the NTS-KE server names, else 123).")
    var port: UInt16?

    @Option(help: "Number of requests to send; the minimum-delay reply is reported.")
    var samples: Int = 4

    @Option(help: "Give up after this many seconds in total.")
    var timeout: Double = 5

    @Option(help: "Seconds between requests.")
    var interval: Double = 0.5

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    @Flag(help: "Use Network Time Security (NTS-KE, then authenticated NTP).")
    var nts = false

    @Option(help: "NTS-KE port (with --nts).")
    var kePort: UInt16 = 4460

    @Option(help: "PEM file of CA certificates to trust for NTS-KE, besides the system's (with --nts).")
    var caFile: String?

    func validate() throws {
        guard (1...64).contains(samples) else { throw ValidationError("--samples must be between 1 and 64") }
        guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout must be between 0 and 3600 seconds") }
        guard interval >= 0, interval <= 60 else { throw ValidationError("--interval must be between 0 and 60 seconds") }
    }

    func run() async throws {
        // The library's one-server measurement: what an app gets from `SecureTime`.
        let server = nts
            ? TimeServer.nts(host, keyExchangePort: kePort, port: port, caFile: caFile)
            : TimeServer.unauthenticated(host, port: port ?? 123)
        let options = SecureTimeOptions(
            samplesPerServer: samples, interval: .nanoseconds(Int64(interval * 1e9)), timeout: .nanoseconds(Int64(timeout * 1e9))
        )
        let measurement: ServerMeasurement
        do {
            measurement = try await SecureTime.measure(server, options: options)
        } catch {
            fail(error.description)
        }
        let report = QueryReport(host: host, measurement: measurement)
        print(json ? report.json() : report.text())
    }
}

/// Prints one line to stderr and exits 1: the contract for every query failure.
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("pendulum: \(message)\n".utf8))
    Foundation.exit(1)
}
