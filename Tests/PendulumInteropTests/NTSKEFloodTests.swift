import Foundation
import Testing

/// pendulum-ntpd's NTS-KE server under the floods an attacker on loopback can mount, with
/// `pendulum bench ntske-flood` as the attacker and as the honest client it measures: 3000
/// connections held (re-opened as the server closes them), idle or stopping after their
/// ClientHello, from one address and from 300 addresses each in its own /24.
extension NTPDaemonInteropTests {
    @Suite(.serialized) struct NTSKEFloodTests {
        struct FloodReport: Decodable {
            var floodOpened: Int
            var probes: Int
            var probesSucceeded: Int
            var probesWithinDeadline: Int
            var probeMaximumMilliseconds: Double?
            var rssBeforeKiB: Int?
            var rssAfterKiB: Int?
            var failures: [String: Int]
        }

        func flood(_ daemon: NTPDaemonProcess, kind: String, sources: Int, settle: Double) throws -> FloodReport {
            let certificate = try #require(daemon.certificate)
            let port = try #require(daemon.ntsKEPort)
            let pid = try #require(daemon.processIdentifier)
            // The attacker on the other CPU from the server: otherwise it wins by taking the
            // server's CPU, which a remote attacker cannot.
            let result = try ChildProcess.run(try TestPaths.requireProgram("taskset", package: "util-linux"), [
                "-c", "1", TestPaths.pendulum, "bench", "ntske-flood", "--json", "--port", "\(port)", "--ca-file", certificate.certificatePath,
                "--connections", "3000", "--kind", kind, "--first-source", sources == 1 ? "127.2.0.1" : "127.1.0.1",
                "--sources", "\(sources)", "--source-stride", sources == 1 ? "1" : "256",
                "--duration", "20", "--probes", "100", "--reopen", "--pid", "\(pid)", "--settle", "\(settle)",
            ], timeout: 120)
            try #require(result.status == 0, "\(result.stderr)")
            return try JSONDecoder().decode(FloodReport.self, from: Data(result.stdout.utf8))
        }

        @Test func honestClientsAreServedThroughFloodsFromOneAndFromManyAddresses() throws {
            let daemon = try NTPDaemonProcess(nts: true, cpu: 0)
            defer { daemon.remove() }
            let scenarios: [(kind: String, sources: Int)] = [("idle", 1), ("hello", 1), ("hello", 300)]
            var reports: [FloodReport] = []
            for (index, scenario) in scenarios.enumerated() {
                let report = try flood(daemon, kind: scenario.kind, sources: scenario.sources, settle: index == scenarios.count - 1 ? 15 : 0)
                let name = "\(scenario.kind) from \(scenario.sources)"
                print("ntske-flood \(name): \(report.probesWithinDeadline)/100 within 1 s, slowest \(report.probeMaximumMilliseconds ?? -1) ms, flood opened \(report.floodOpened), RSS \(report.rssBeforeKiB ?? 0) → \(report.rssAfterKiB ?? 0) KiB")
                #expect(report.floodOpened >= 3000, "\(name): the flood must have been mounted")
                // The figure to meet is 99 of 100, and the release build meets it in every
                // scenario (benchmarks/ntske-flood-side-by-side.sh, docs/benchmarks.md). This
                // is the debug build, TLS included (BoringSSL at -O0): from many networks every
                // admitted connection costs a handshake several times slower than in release.
                // The server's CPU then decides, through its accept queue: 89–90 of 100 within
                // 1 s (one CI run failed on it) until connections abandoned under pressure
                // were charged to their network, 98–99 in four runs since. Before admission:
                // 0–1 of 12.
                let required = scenario.sources == 1 ? 99 : 90
                #expect(report.probesWithinDeadline >= required, "\(name): \(report.probesWithinDeadline)/100 within 1 s, slowest \(report.probeMaximumMilliseconds ?? -1) ms, failures \(report.failures)")
                reports.append(report)
            }
            // Memory comes back once the flood is over (the server trims its heap when nearly
            // empty again): within 20 % of before the first flood.
            let before = try #require(reports.first?.rssBeforeKiB)
            let after = try #require(reports.last?.rssAfterKiB)
            #expect(Double(after) <= Double(before) * 1.2, "RSS \(before) KiB before the floods, \(after) KiB 15 s after")
            let log = daemon.log
            #expect(log.contains("overloaded (too many connections from this address)"), "\(log)")
            #expect(log.contains("overload over:"), "\(log)")
        }

        /// With `ulimit -n 64` the accept loop used to spin on EMFILE (40 % of a CPU, nothing
        /// logged) and serve nobody. Now the cap follows the descriptor limit, and a failing
        /// accept backs off.
        @Test func aLowDescriptorLimitLowersTheCapAndStillServes() throws {
            let daemon = try NTPDaemonProcess(nts: true, descriptorLimit: 64, cpu: 0)
            defer { daemon.remove() }
            #expect(daemon.log.contains("max-connections lowered from 512 to"), "\(daemon.log)")
            let report = try flood(daemon, kind: "hello", sources: 1, settle: 0)
            // The aim is 95 of 100 (issue 16). Measured 2026-12-08 on the 2-core CI machine,
            // debug build: 72, 89, 90, 100, 100 and one pass of 95+ in six runs; the misses are
            // honest probes reset when accept fails with EMFILE and the longest-stalled
            // connections are shed (they share 127.0.0.1 with the flood). Before the cap
            // followed the descriptor limit: 0. The bound below catches that, not the aim.
            #expect(report.probesWithinDeadline >= 60, "\(report.probesWithinDeadline)/100 within 1 s, slowest \(report.probeMaximumMilliseconds ?? -1) ms, failures \(report.failures)\n\(daemon.log)")
            // Idle afterwards: no busy loop left behind.
            let pid = try #require(daemon.processIdentifier)
            let start = try Self.cpuTicks(pid)
            sleep(3)
            let used = try Self.cpuTicks(pid) - start
            #expect(used < 30, "\(used) CPU ticks (1/100 s) in 3 idle seconds")
            let failureLines = daemon.log.split(separator: "\n").filter { $0.contains("accept failed") }
            #expect(failureLines.count <= 2, "accept failures are logged once per episode:\n\(daemon.log)")
        }

        /// utime + stime from /proc/PID/stat, in clock ticks.
        static func cpuTicks(_ pid: Int32) throws -> Int {
            let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
            // Fields after the command name, which is in parentheses and may hold spaces.
            let rest = try #require(stat.split(separator: ")").last).split(separator: " ")
            // rest[0] is field 3 (state); utime and stime are fields 14 and 15.
            return (Int(rest[11]) ?? 0) + (Int(rest[12]) ?? 0)
        }
    }
}
