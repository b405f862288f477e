import ArgumentParser
import Foundation
import Pendulum
import PendulumIO
import PendulumNTP
import PendulumNTS
import PendulumNTSKE
import PendulumTime

/// `pendulum query HOST...`: measure one server's offset and delay, once; or ask several and
/// report the time they agree on, as `SecureTime.now(from:)` gives it to an app.
@available(macOS 13, *)
struct QueryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Measure the offset and delay of an NTP server, or the time several agree on.",
        discussion: """
            Sends a few client requests, ignores any reply that does not answer them, and reports \
            the sample with the smallest delay. Exits non-zero with one line on stderr when the \
            name does not resolve, nothing answers in time, the server sends a kiss-o'-death or \
            says it is unsynchronised. With several servers, all are asked at once; those whose \
            answers do not overlap the majority's are outvoted, and the report gives the time, \
            its error bound, and every server's part; it fails when no majority agrees.
            """
    )

    @Argument(help: "Server: a name or an IPv4/IPv6 address, optionally with :PORT (the NTS-KE port with --nts, else the NTP port; [IPv6]:PORT).")
    var hosts: [String]

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
        guard !hosts.isEmpty else { throw ValidationError("name at least one server") }
        guard (1...64).contains(samples) else { throw ValidationError("--samples must be between 1 and 64") }
        guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout must be between 0 and 3600 seconds") }
        guard interval >= 0, interval <= 60 else { throw ValidationError("--interval must be between 0 and 60 seconds") }
        for host in hosts where ServerArgument(host) == nil { throw ValidationError("\(host): not a server (NAME, NAME:PORT, IPv6 or [IPv6]:PORT)") }
    }

    func run() async throws {
        let options = SecureTimeOptions(
            samplesPerServer: samples, interval: .nanoseconds(Int64(interval * 1e9)), timeout: .nanoseconds(Int64(timeout * 1e9))
        )
        let servers = hosts.compactMap(ServerArgument.init).map { argument in
            nts
                ? TimeServer.nts(argument.host, keyExchangePort: argument.port ?? kePort, port: port, caFile: caFile)
                : TimeServer.unauthenticated(argument.host, port: argument.port ?? port ?? 123)
        }
        guard servers.count == 1, let server = servers.first else {
            let reading: SecureTimeReading
            do {
                reading = try await SecureTime.now(from: servers, options: options)
            } catch {
                fail(error.description)
            }
            let report = AgreementReport(reading)
            print(json ? report.json() : report.text())
            return
        }
        // The library's one-server measurement: what an app gets from `SecureTime`.
        let measurement: ServerMeasurement
        do {
            measurement = try await SecureTime.measure(server, options: options)
        } catch {
            fail(error.description)
        }
        let report = QueryReport(host: server.host, measurement: measurement)
        print(json ? report.json() : report.text())
    }
}

/// A server on the command line: NAME, NAME:PORT, IPv4:PORT, an IPv6 literal, [IPv6]:PORT.
struct ServerArgument: Equatable {
    var host: String
    var port: UInt16?

    init(host: String, port: UInt16?) {
        self.host = host
        self.port = port
    }

    init?(_ text: String) {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if rest.isEmpty {
                port = nil
            } else {
                guard rest.hasPrefix(":"), let number = UInt16(rest.dropFirst()), number > 0 else { return nil }
                port = number
            }
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            host = String(text[..<colon])
            guard let number = UInt16(text[text.index(after: colon)...]), number > 0 else { return nil }
            port = number
        } else {
            host = text
            port = nil
        }
        guard !host.isEmpty else { return nil }
    }
}

/// Prints one line to stderr and exits 1: the contract for every query failure.
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("pendulum: \(message)\n".utf8))
    Foundation.exit(1)
}
