import Foundation
import Testing

/// Real UDP servers that jump after the daemon has synchronised to them: the clock must not
/// follow past the panic threshold (1000 s) and the refusal names the sources; with the
/// threshold raised past the jump it follows, and says so.
extension NTPDaemonInteropTests {
    @Suite(.serialized) struct SourceJumpTests {
        /// Three servers, a daemon on an overlay clock polling them every second; returns once
        /// it is synchronised.
        func synchronisedDaemon(_ servers: [JumpingNTPServer], extra: [String] = []) async throws -> NTPDaemonProcess {
            let sources = servers.flatMap { ["[[source]]", "address = \"127.0.0.1:\($0.port)\""] }
            let daemon = try await offCooperativePool {
                try NTPDaemonProcess(nts: false, localStratum: nil, extraLines: [
                    "[source-defaults]", "minpoll = 0", "maxpoll = 0",
                ] + extra + sources)
            }
            for _ in 0..<60 {
                if let status = try await offCooperativePool({ try daemon.status() }), status.system.synchronized { return daemon }
                try await Task.sleep(nanoseconds: 250_000_000)
            }
            daemon.remove()
            throw DaemonFailed(log: "not synchronised in 15 s:\n" + daemon.log)
        }

        /// How far the daemon's overlay clock is from the system clock.
        func clockOffset(_ daemon: NTPDaemonProcess) async throws -> Double {
            let status = try #require(try await offCooperativePool { try daemon.status() })
            return try #require(status.clock.offsetFromSystemSeconds)
        }

        @Test(arguments: [3600.0, 10 * 365 * 86_400.0])
        func sourcesThatJumpAfterSynchronisationDoNotMoveTheClock(jump: Double) async throws {
            let servers = try (0..<3).map { _ in try JumpingNTPServer() }
            let daemon = try await synchronisedDaemon(servers)
            defer { daemon.remove() }
            for server in servers { server.jump(toSeconds: jump) }
            try await Task.sleep(nanoseconds: 10_000_000_000)
            let offset = try await clockOffset(daemon)
            #expect(abs(offset) < 1, "the clock moved by \(offset) s after the sources jumped by \(jump) s")
            let refusals = daemon.log.split(separator: "\n").filter { $0.contains("exceeds the panic threshold (1000.0 s): not steering") }
            print("jump \(jump) s: clock offset \(offset) s; \(refusals.count) refusals, first: \(refusals.first ?? "none")")
            #expect(!refusals.isEmpty, "\(daemon.log)")
            #expect(refusals.first?.contains("(sources 127.0.0.1:") == true, "the refusal names the sources: \(refusals)")
            // About 20 refusals in 10 s at 1 s polling; logged at the 1st, 2nd, 4th, 8th, 16th.
            #expect(refusals.count <= 6, "refusals are logged at powers of two, not each: \(refusals.count) lines")
        }

        @Test func withThePanicThresholdRaisedPastTheJumpTheClockFollowsAndSaysSo() async throws {
            let servers = try (0..<3).map { _ in try JumpingNTPServer() }
            let daemon = try await synchronisedDaemon(servers, extra: ["[synchronization]", "panic-threshold-seconds = 1e9"])
            defer { daemon.remove() }
            for server in servers { server.jump(toSeconds: 3600) }
            try await Task.sleep(nanoseconds: 10_000_000_000)
            let offset = try await clockOffset(daemon)
            #expect(abs(offset - 3600) < 1, "the clock is \(offset) s from the system clock, not 3600 s")
            print("panic threshold 1e9 s: clock offset \(offset) s; " + (daemon.log.split(separator: "\n").first { $0.contains("clock stepped by") }.map(String.init) ?? "no step logged"))
            #expect(daemon.log.contains("clock stepped by"), "\(daemon.log)")
        }
    }
}
