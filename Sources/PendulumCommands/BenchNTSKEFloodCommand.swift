#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Foundation
import NIOCore
import PendulumNTSKE

/// `pendulum bench ntske-flood`: holds a flood of idle connections or half-finished TLS
/// handshakes against a loopback NTS-KE server (pendulum-ntpd, chronyd, any) while a
/// legitimate client runs complete exchanges, and reports how many of those succeeded and how
/// fast, and what the server's memory did.
@available(macOS 13, *)
struct BenchNTSKEFloodCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ntske-flood",
        abstract: "Flood a loopback NTS-KE server with idle connections or half handshakes while measuring honest exchanges.",
        discussion: """
        The flood comes from the loopback addresses given by --first-source, --sources and \
        --source-stride (127.0.0.0/8 is all loopback on Linux); the honest client connects from \
        127.0.0.1. Only loopback targets are accepted: this is a test of your own server.
        """
    )

    @Option(help: "NTS-KE server address (loopback only).")
    var host = "127.0.0.1"

    @Option(help: "NTS-KE server port.")
    var port: Int = 4460

    @Option(help: "CA file the honest client trusts the server's certificate with.")
    var caFile: String?

    @Option(help: "Flood connections held at once.")
    var connections: Int = 3000

    @Option(help: "What the flood sends: idle (nothing) or hello (a ClientHello, then nothing).")
    var kind: FloodKind = .idle

    @Option(help: "First flood source address.")
    var firstSource = "127.1.0.1"

    @Option(help: "Number of flood source addresses.")
    var sources: Int = 1

    @Option(help: "Distance between flood source addresses (256: each in its own /24).")
    var sourceStride: Int = 1

    @Option(help: "Seconds the flood lasts.")
    var duration: Double = 20

    @Flag(help: "Open again what the server closes, so the flood keeps its size.")
    var reopen = false

    @Option(help: "Honest exchanges during the flood, evenly spaced.")
    var probes: Int = 100

    @Option(help: "An honest exchange counts as a success only within this many seconds.")
    var probeDeadline: Double = 1

    @Option(help: "Server process to report the memory (RSS) of.")
    var pid: Int32?

    @Option(help: "Seconds to wait after the flood before the last RSS reading.")
    var settle: Double = 60

    @Flag(help: "One JSON object instead of text.")
    var json = false

    enum FloodKind: String, ExpressibleByArgument, Sendable { case idle, hello }

    func validate() throws {
        guard let target = IPv4Text.parse(host), target >> 24 == 127 else { throw ValidationError("--host must be an IPv4 loopback address (127.0.0.0/8)") }
        guard let first = IPv4Text.parse(firstSource), first >> 24 == 127 else { throw ValidationError("--first-source must be an IPv4 loopback address") }
        guard (1...100_000).contains(connections) else { throw ValidationError("--connections must be 1…100000") }
        guard (1...65_536).contains(sources), (1...65_536).contains(sourceStride) else { throw ValidationError("--sources and --source-stride must be 1…65536") }
        let last = UInt64(first) + UInt64(sources - 1) * UInt64(sourceStride)
        guard last >> 24 == 127 else { throw ValidationError("flood sources run past 127.255.255.255") }
        guard duration > 0, duration <= 3600, settle >= 0, settle <= 3600 else { throw ValidationError("--duration and --settle must be 0…3600 s") }
        guard (0...100_000).contains(probes), probeDeadline > 0 else { throw ValidationError("--probes must be 0…100000 and --probe-deadline positive") }
    }

    struct Report: Encodable {
        var kind: String
        var connections: Int
        var sources: Int
        var floodOpened: Int
        var floodMostHeld: Int
        var floodClosedByServer: Int
        var floodConnectFailures: Int
        var probes: Int
        var probesSucceeded: Int
        var probesWithinDeadline: Int
        var probeMedianMilliseconds: Double?
        var probeMaximumMilliseconds: Double?
        var rssBeforeKiB: Int?
        var rssPeakKiB: Int?
        var rssAfterKiB: Int?
        var failures: [String: Int]
    }

    func run() async throws {
        guard let targetAddress = IPv4Text.parse(host), let first = IPv4Text.parse(firstSource) else { throw ValidationError("bad address") }
        var target = sockaddr_in()
        target.sin_family = sa_family_t(AF_INET)
        target.sin_port = UInt16(clamping: port).bigEndian
        target.sin_addr.s_addr = targetAddress.bigEndian
        let plan = ConnectionFlood.Plan(
            target: target, connections: connections,
            firstBytes: kind == .hello ? try ClientHelloCapture.ntskeClientHello() : [],
            sources: (0..<sources).map { first &+ UInt32($0 * sourceStride) },
            duration: duration, reopen: reopen
        )
        let rssBefore = pid.flatMap(ProcessMemory.residentKiB)
        let flood = ConnectionFlood(plan: plan)
        let finished = Thread { flood.run() }
        finished.stackSize = 1 << 20
        finished.start()

        // Give the flood a moment to fill the server before the first honest exchange.
        let warmUp = min(2.0, duration / 4)
        try await Task.sleep(nanoseconds: UInt64(warmUp * 1e9))
        let clock = ContinuousClock()
        let spacing = probes > 0 ? max(0, (duration - warmUp - probeDeadline) / Double(probes)) : 0
        var latencies: [Double] = []
        var failures: [String: Int] = [:]
        var rssPeak = rssBefore
        for _ in 0..<probes {
            let started = clock.now
            do {
                _ = try await NTSKEClient.establish(host: host, port: port, caFile: caFile, timeout: .milliseconds(Int64(max(1000, probeDeadline * 3000))))
                latencies.append(Self.seconds(clock.now - started))
            } catch {
                failures["\(error)", default: 0] += 1
            }
            if let pid, let now = ProcessMemory.residentKiB(pid) { rssPeak = max(rssPeak ?? 0, now) }
            let left = spacing - Self.seconds(clock.now - started)
            if left > 0 { try await Task.sleep(nanoseconds: UInt64(left * 1e9)) }
        }
        while !finished.isFinished { try await Task.sleep(nanoseconds: 50_000_000) }
        if let pid, let now = ProcessMemory.residentKiB(pid) { rssPeak = max(rssPeak ?? 0, now) }
        var rssAfter: Int?
        if let pid {
            try await Task.sleep(nanoseconds: UInt64(settle * 1e9))
            rssAfter = ProcessMemory.residentKiB(pid)
        }
        let sorted = latencies.sorted()
        let report = Report(
            kind: kind.rawValue, connections: connections, sources: sources,
            floodOpened: flood.tally.opened, floodMostHeld: flood.tally.mostHeld,
            floodClosedByServer: flood.tally.closedByServer, floodConnectFailures: flood.tally.connectFailures,
            probes: probes, probesSucceeded: latencies.count,
            probesWithinDeadline: latencies.filter { $0 <= probeDeadline }.count,
            probeMedianMilliseconds: sorted.isEmpty ? nil : sorted[sorted.count / 2] * 1000,
            probeMaximumMilliseconds: sorted.last.map { $0 * 1000 },
            rssBeforeKiB: rssBefore, rssPeakKiB: rssPeak, rssAfterKiB: rssAfter, failures: failures
        )
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(Self.text(report, deadline: probeDeadline))
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func text(_ report: Report, deadline: Double) -> String {
        var lines = [
            "flood: \(report.connections) \(report.kind) connections from \(report.sources) address(es); opened \(report.floodOpened), "
                + "most held \(report.floodMostHeld), closed by the server \(report.floodClosedByServer), failed to connect \(report.floodConnectFailures)",
            "honest exchanges: \(report.probesWithinDeadline) of \(report.probes) within \(deadline) s (\(report.probesSucceeded) completed); "
                + "median \(report.probeMedianMilliseconds.map { String(format: "%.1f", $0) } ?? "-") ms, "
                + "max \(report.probeMaximumMilliseconds.map { String(format: "%.1f", $0) } ?? "-") ms",
        ]
        if let before = report.rssBeforeKiB {
            lines.append("server RSS: \(before / 1024) MiB before, \((report.rssPeakKiB ?? 0) / 1024) MiB at most, \((report.rssAfterKiB ?? 0) / 1024) MiB after settling")
        }
        for (failure, count) in report.failures.sorted(by: { $0.value > $1.value }) { lines.append("  \(count)× \(failure)") }
        return lines.joined(separator: "\n")
    }
}

/// Dotted-quad IPv4 text to a host-order address.
enum IPv4Text {
    static func parse(_ text: String) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard part.count <= 3, let byte = UInt8(part) else { return nil }
            value = value << 8 | UInt32(byte)
        }
        return value
    }
}

/// A process's resident memory from /proc.
enum ProcessMemory {
    static func residentKiB(_ pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
        }
        return nil
    }
}
