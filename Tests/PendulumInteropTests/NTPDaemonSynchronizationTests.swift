import Foundation
import PendulumSync
import Testing

/// pendulum-ntpd keeping an overlay clock right from real sources on loopback, judged only from
/// what an operator sees: `pendulum status --json`. Every source's clock is the system clock
/// (or a deliberately wrong overlay of it), so the overlay's offset from the system clock is
/// exactly the daemon's error.
extension NTPDaemonInteropTests {
    @Suite(.serialized) struct NTPDaemonSynchronizationTests {
        /// One status sample per daemon every `interval` seconds until `duration` has passed.
        struct Trace: Sendable {
            var samples: [(elapsed: Double, snapshot: ObservationSnapshot?)] = []

            /// |offset from the system clock| of each sample that had one.
            var errors: [(elapsed: Double, error: Double)] {
                samples.compactMap { sample in
                    sample.snapshot?.clock.offsetFromSystemSeconds.map { (sample.elapsed, abs($0)) }
                }
            }

            /// When the error first fell below `bound`.
            func firstBelow(_ bound: Double) -> Double? { errors.first { $0.error < bound }?.elapsed }

            /// The largest error after `start`.
            func worst(after start: Double) -> Double { errors.filter { $0.elapsed > start }.map(\.error).max() ?? .infinity }
        }

        static func trace(_ daemons: [NTPDaemonProcess], duration: Double, interval: Double = 2) -> [Trace] {
            var traces = Array(repeating: Trace(), count: daemons.count)
            let start = Date()
            while Date().timeIntervalSince(start) < duration {
                for (index, daemon) in daemons.enumerated() {
                    traces[index].samples.append((Date().timeIntervalSince(start), try? daemon.status()))
                }
                Thread.sleep(forTimeInterval: interval)
            }
            return traces
        }

        static let wrongClock = ["[clock]", "kind = \"overlay\"", "initial-offset-seconds = 0.25", "initial-frequency-ppm = 30"]

        /// The acceptance run: +0.25 s and +30 ppm wrong, chronyd -x as the only
        /// source, within 1 ms inside 60 s and never out of it for the next 5 minutes; once
        /// over plain NTP and once over NTS, side by side against the same chronyd.
        @Test func overlayClockReachesAndHolds1msFromChronyPlainAndNTS() async throws {
            let certificate = try TestCertificate()
            defer { certificate.remove() }
            let chrony = try await offCooperativePool { try ChronyServer(stratum: 2, certificate: certificate) }
            defer { chrony.stop() }
            let plain = try await offCooperativePool {
                try NTPDaemonProcess(nts: false, localStratum: nil, extraLines: Self.wrongClock + [
                    "[[source]]", "mode = \"server\"", "address = \"127.0.0.1:\(chrony.port)\"",
                ])
            }
            defer { plain.remove() }
            let nts = try await offCooperativePool {
                try NTPDaemonProcess(nts: false, localStratum: nil, extraLines: Self.wrongClock + [
                    "[[source]]", "mode = \"nts\"", "address = \"127.0.0.1\"", "ke-port = \(chrony.ntsKEPort ?? 0)",
                    "ca-file = \"\(certificate.certificatePath)\"",
                ])
            }
            defer { nts.remove() }
            let traces = try await offCooperativePool { Self.trace([plain, nts], duration: 60 + 300 + 10) }
            for (name, trace, daemon) in [("plain", traces[0], plain), ("NTS", traces[1], nts)] {
                let reached = try #require(trace.firstBelow(0.001), "\(name): never within 1 ms; last \(String(describing: trace.errors.last))\n\(daemon.log)")
                #expect(reached <= 60, "\(name): took \(reached) s")
                let worst = trace.worst(after: reached)
                #expect(worst < 0.001, "\(name): left the 1 ms band after reaching it: worst \(worst) s")
                let covered = (trace.errors.last?.elapsed ?? 0) - reached
                #expect(covered >= 300, "\(name): only \(covered) s of samples after reaching 1 ms")
                let final = try #require(trace.samples.last?.snapshot)
                #expect(final.system.synchronized)
                #expect(final.system.stratum == 3)
                #expect(final.clock.kind == "overlay")
                #expect(final.sources.first?.selected == true)
                #expect(final.sources.first?.nts == (name == "NTS"))
                if name == "NTS" { #expect((final.sources.first?.cookies ?? 0) > 0) }
                print("pendulum-ntpd (\(name)) from +0.25 s/+30 ppm: |offset| < 1 ms after \(reached) s; worst over the next \(Int(covered)) s: \(worst * 1e6) µs; final \(final.clock.offsetFromSystemSeconds.map { $0 * 1e6 } ?? .nan) µs")
            }
            #expect(try await offCooperativePool { plain.stop() }.status == 0)
            #expect(try await offCooperativePool { nts.stop() }.status == 0)
        }

        /// Four sources, one of them 1 s wrong (our own server on an overlay clock set 1 s
        /// ahead): the clock never follows it, and status marks it as a falseticker.
        @Test func aSourceOneSecondWrongIsAFalsetickerAndNeverFollowed() async throws {
            let chrony = try await offCooperativePool { try ChronyServer(stratum: 2) }
            defer { chrony.stop() }
            let honest = try await offCooperativePool { try (0..<2).map { _ in try NTPDaemonProcess(nts: false, localStratum: 2) } }
            defer { honest.forEach { $0.remove() } }
            let liar = try await offCooperativePool {
                try NTPDaemonProcess(nts: false, localStratum: 2, extraLines: ["[clock]", "kind = \"overlay\"", "initial-offset-seconds = 1.0"])
            }
            defer { liar.remove() }
            let ports = [chrony.port] + honest.map(\.ntpPort) + [liar.ntpPort]
            let client = try await offCooperativePool {
                try NTPDaemonProcess(nts: false, localStratum: nil, extraLines: Self.wrongClock + ports.flatMap { port in
                    ["[[source]]", "address = \"127.0.0.1:\(port)\""]
                })
            }
            defer { client.remove() }
            let traces = try await offCooperativePool { Self.trace([client], duration: 75) }
            let trace = traces[0]
            let reached = try #require(trace.firstBelow(0.001), "never within 1 ms:\n\(client.log)")
            #expect(reached <= 60)
            // Started 0.25 s off: never further than that, so it never moved towards +1 s.
            let worstEver = trace.errors.map(\.error).max() ?? .infinity
            #expect(worstEver <= 0.26, "moved towards the falseticker: \(worstEver) s")
            #expect(trace.worst(after: reached) < 0.001)
            let liarName = "127.0.0.1:\(liar.ntpPort)"
            let final = try #require(trace.samples.last?.snapshot)
            let wrong = try #require(final.sources.first { $0.name == liarName }, "\(final.sources.map(\.name))")
            #expect(wrong.falseticker, "not marked: \(wrong)")
            #expect(!wrong.selected)
            for sample in trace.samples {
                #expect(sample.snapshot?.sources.first { $0.name == liarName }?.selected != true, "followed the falseticker at \(sample.elapsed) s")
            }
            #expect(final.sources.filter { $0.name != liarName }.allSatisfy { !$0.falseticker })
            let table = try await offCooperativePool { try ChildProcess.run(TestPaths.pendulum, ["status", "--socket", client.observationPath], timeout: 10) }
            #expect(table.stdout.contains("falseticker"), "\(table.stdout)")
            #expect(client.log.contains("is a falseticker"), "\(client.log)")
            print("falseticker run: within 1 ms after \(reached) s, worst \(worstEver) s\n\(table.stdout)")
        }

        /// A source whose name does not resolve is reported, not fatal; status says why.
        @Test func anUnresolvableSourceIsReportedClearly() async throws {
            let daemon = try await offCooperativePool {
                try NTPDaemonProcess(nts: false, localStratum: 2, extraLines: ["[[source]]", "address = \"no-such-host.invalid\""])
            }
            defer { daemon.remove() }
            var snapshot: ObservationSnapshot?
            for _ in 0..<20 {
                snapshot = try await offCooperativePool { try daemon.status() }
                if snapshot?.sources.first?.lastError != nil { break }
                try await Task.sleep(for: .milliseconds(500))
            }
            let source = try #require(snapshot?.sources.first)
            #expect(source.lastError?.contains("cannot resolve no-such-host.invalid") == true, "\(source)")
            #expect(!source.reachable)
            #expect(daemon.log.contains("cannot resolve no-such-host.invalid"), "\(daemon.log)")
            #expect(try await offCooperativePool { daemon.stop() }.status == 0)
        }

        /// The Prometheus endpoint serves the per-source and system gauges with the prefix.
        @Test func metricsShowSourcesSystemAndServerCounters() async throws {
            let chrony = try await offCooperativePool { try ChronyServer(stratum: 2) }
            defer { chrony.stop() }
            let metricsPort = freeTCPPort()
            let daemon = try await offCooperativePool {
                try NTPDaemonProcess(nts: false, localStratum: nil, extraLines: [
                    "[[source]]", "address = \"127.0.0.1:\(chrony.port)\"",
                    "[observability]", "observation-path = \"\(FileManager.default.temporaryDirectory.path)/pendulum-metrics-\(metricsPort)\"",
                    "metrics-listen = \"127.0.0.1:\(metricsPort)\"",
                ])
            }
            defer { daemon.remove() }
            var body = ""
            for _ in 0..<30 {
                try await Task.sleep(for: .milliseconds(500))
                body = (try? await offCooperativePool { try ChildProcess.run("/usr/bin/curl", ["-s", "http://127.0.0.1:\(metricsPort)/metrics"], timeout: 5) })?.stdout ?? ""
                if body.contains("pendulum_source_offset_seconds") { break }
            }
            for name in ["pendulum_system_synchronized", "pendulum_system_stratum", "pendulum_source_reachable", "pendulum_source_offset_seconds",
                         "pendulum_source_delay_seconds", "pendulum_source_poll_log2_seconds", "pendulum_clock_offset_from_system_seconds",
                         "pendulum_server_packets"] {
                #expect(body.contains(name), "missing \(name) in:\n\(body)")
            }
            #expect(try await offCooperativePool { daemon.stop() }.status == 0)
        }
    }
}

extension NTPDaemonInteropTests.NTPDaemonSynchronizationTests {
    /// A pool is every address its name resolves to, used as separate servers; a member that
    /// stops answering is replaced. "localhost" resolves to 127.0.0.1 and ::1 and our server
    /// listens on 127.0.0.1 only, so the ::1 member never answers.
    @Test func aPoolUsesItsAddressesAndReplacesAnUnreachableOne() async throws {
        let server = try await offCooperativePool { try NTPDaemonProcess(nts: false, localStratum: 2) }
        defer { server.remove() }
        let client = try await offCooperativePool {
            try NTPDaemonProcess(nts: false, localStratum: nil, extraLines: [
                "[[source]]", "mode = \"pool\"", "address = \"localhost:\(server.ntpPort)\"", "count = 2",
            ])
        }
        defer { client.remove() }
        var snapshot: ObservationSnapshot?
        for _ in 0..<90 {
            try await Task.sleep(for: .seconds(1))
            snapshot = try await offCooperativePool { try client.status() }
            if client.log.contains("replaced: unreachable"), snapshot?.system.synchronized == true { break }
        }
        let final = try #require(snapshot)
        #expect(final.system.synchronized, "\(client.log)")
        #expect(final.sources.allSatisfy { $0.pool == "localhost" }, "\(final.sources)")
        #expect(final.sources.contains { $0.name == "127.0.0.1:\(server.ntpPort)" && $0.selected })
        #expect(client.log.contains("pool localhost: using 127.0.0.1:\(server.ntpPort)"), "\(client.log)")
        #expect(client.log.contains("pool localhost: using [::1]:\(server.ntpPort)"), "\(client.log)")
        #expect(client.log.contains("[::1]:\(server.ntpPort) replaced: unreachable"), "\(client.log)")
        #expect(try await offCooperativePool { client.stop() }.status == 0)
    }
}
