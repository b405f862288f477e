import ArgumentParser
import Foundation
import PendulumIO
import PendulumNTP
import PendulumNTS
import PendulumNTSKE
import PendulumTime

#if canImport(Glibc)
    import Glibc
#endif

/// `pendulum bench-serve`: closed-loop load against an NTP server on a numeric address — keeps
/// a window of requests outstanding from one socket and counts answers. For NTS it runs NTS-KE
/// once and resends one authenticated request (an NTS server keeps no per-request state, so
/// each copy costs it a cookie opening, an authentication and a sealed answer).
///
/// A first cut of issue 6's benchmark: one client socket, no rate stepping or latency
/// percentiles. Point it at servers without per-client rate limiting.
@available(macOS 13, *)
struct BenchServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-serve",
        abstract: "Measure how many requests per second an NTP server answers (closed loop, one socket)."
    )

    @Argument(help: "Server IPv4/IPv6 address.") var address: String
    @Option(help: "NTP port.") var port: UInt16 = 123
    @Option(help: "Seconds to run.") var seconds: Double = 5
    @Option(help: "Requests kept outstanding.") var window: Int = 64
    @Flag(help: "Send NTS-authenticated requests (runs NTS-KE first).") var nts = false
    @Option(help: "NTS-KE port (with --nts).") var kePort: UInt16 = 4460
    @Option(help: "PEM CA file for NTS-KE (with --nts).") var caFile: String?

    func validate() throws {
        guard seconds > 0, seconds <= 600 else { throw ValidationError("--seconds must be in (0, 600]") }
        guard (1...4096).contains(window) else { throw ValidationError("--window must be 1...4096") }
        guard SocketAddress(ip: address, port: port) != nil else { throw ValidationError("\(address) is not a numeric IP address") }
    }

    func run() async throws {
        guard let server = SocketAddress(ip: address, port: port) else { throw ExitCode(2) }
        let transmit = NTPTimestamp(WallClock.now())
        let header = NTPHeader(mode: .client, transmitTimestamp: transmit)
        var request: [UInt8] = []
        var association: NTSClientAssociation?
        if nts {
            let session = try await NTSKEClient.establish(host: address, port: Int(kePort), caFile: caFile)
            var built = try session.makeAssociation()
            var random = SystemRandomSource()
            request = try built.makeRequest(header: header, random: &random)
            association = built
        } else {
            header.write(to: &request)
        }

        let socket = try TimestampedUDPSocket(family: server.family, kernelTimestamps: false)
        try socket.connect(to: server)
        var sent = 0, received = 0, invalid = 0, outstanding = 0
        var firstChecked = false
        let end = MonotonicClock.now() + .nanoseconds(Int64(seconds * 1e9))
        let started = MonotonicClock.now()
        while MonotonicClock.now() < end {
            while outstanding < window {
                try socket.send(request)
                sent += 1
                outstanding += 1
            }
            guard let reply = try socket.receive(timeout: .milliseconds(50)) else {
                // Nothing for 50 ms: count the window as lost and refill it.
                outstanding = 0
                continue
            }
            received += 1
            outstanding = max(0, outstanding - 1)
            if !Self.looksValid(reply.bytes, request: request, origin: transmit) { invalid += 1; continue }
            if !firstChecked, var checker = association {
                // The full client check once: authentic, with fresh cookies.
                if case .authenticated = checker.handleResponse(reply.bytes) {} else { invalid += 1 }
                association = checker
                firstChecked = true
            }
        }
        let elapsed = (MonotonicClock.now() - started)
        let elapsedSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let loss = sent == 0 ? 0 : Double(sent - received) / Double(sent) * 100
        let rate = Double(received) / elapsedSeconds
        print("\(nts ? "nts" : "ntp") \(server): sent \(sent), answered \(received) in \(String(format: "%.1f", elapsedSeconds)) s = \(Int(rate)) replies/s, loss \(String(format: "%.2f", loss)) %, invalid \(invalid), request \(request.count) bytes")
    }

    /// Mode 4, not a kiss, our origin timestamp, no larger than the request.
    static func looksValid(_ reply: [UInt8], request: [UInt8], origin: NTPTimestamp) -> Bool {
        guard reply.count >= 48, reply.count <= request.count, reply[0] & 7 == 4, reply[1] != 0 else { return false }
        var echoed: UInt64 = 0
        for byte in reply[24..<32] { echoed = echoed << 8 | UInt64(byte) }
        return echoed == origin.rawValue
    }
}
