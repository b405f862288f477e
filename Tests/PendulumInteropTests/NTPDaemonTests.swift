import Foundation
import Testing

/// pendulum-ntpd as an operator meets it: `pendulum query` against it, bad configuration,
/// corrupt key file, busy port, clean stop.
extension NTPDaemonInteropTests {
    @Suite(.serialized) struct NTPDaemonTests {
        @Test func plainAndNTSQueriesAgainstOurServer() async throws {
            let daemon = try await offCooperativePool { try NTPDaemonProcess(nts: true, alsoIPv6: true) }
            defer { daemon.remove() }
            let overIPv6 = try await offCooperativePool { try ChildProcess.run(TestPaths.pendulum, ["query", "--samples", "1", "--port", "\(daemon.ntpPort)", "::1"], timeout: 10) }
            #expect(overIPv6.status == 0, "\(overIPv6.stderr)")
            let plain = try await offCooperativePool { try ChildProcess.run(TestPaths.pendulum, ["query", "--samples", "1", "--port", "\(daemon.ntpPort)", "127.0.0.1"], timeout: 10) }
            #expect(plain.status == 0, "\(plain.stderr)")
            #expect(plain.stdout.contains("stratum          2"))
            let certificate = try #require(daemon.certificate)
            let nts = try await offCooperativePool { try ChildProcess.run(TestPaths.pendulum, [
                "query", "--nts", "--samples", "1", "--ca-file", certificate.certificatePath, "--ke-port", "\(daemon.ntsKEPort ?? 0)",
                "--port", "\(daemon.ntpPort)", "127.0.0.1",
            ], timeout: 15) }
            #expect(nts.status == 0, "\(nts.stderr)")
            #expect(nts.stdout.contains("nts              authenticated, AEAD 15"), "\(nts.stdout)")
            let stopped = try await offCooperativePool { daemon.stop() }
            #expect(stopped.status == 0)
        }

        @Test func unsynchronisedWithoutLocalStratum() async throws {
            let daemon = try await offCooperativePool { try NTPDaemonProcess(nts: false, localStratum: nil) }
            defer { daemon.remove() }
            let result = try await offCooperativePool { try ChildProcess.run(TestPaths.pendulum, ["query", "--samples", "1", "--port", "\(daemon.ntpPort)", "127.0.0.1"], timeout: 10) }
            // The query tool refuses an unsynchronised server and says what it saw.
            #expect(result.status != 0)
            #expect(result.stderr.contains("leap indicator 3, stratum 16"), "\(result.stdout)\(result.stderr)")
        }

        @Test func badConfigurationExits2WithOneLineNamingFileLineAndKey() async throws {
            let directory = try TestPaths.temporaryDirectory("ntpd-badconfig")
            defer { try? FileManager.default.removeItem(at: directory) }
            let path = directory.appendingPathComponent("bad.toml").path
            try "[[server]]\nlisten = \"127.0.0.1:123\"\nlisten-backlog = 5\n".write(toFile: path, atomically: true, encoding: .utf8)
            let result = try await offCooperativePool { try ChildProcess.run(TestPaths.pendulumNTPD, ["--config", path], timeout: 10) }
            #expect(result.status == 2)
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.count == 1)
            #expect(result.stderr.contains("\(path):3: server[0].listen-backlog: unknown key"), "\(result.stderr)")
            let validate = try await offCooperativePool { try ChildProcess.run(TestPaths.pendulum, ["validate", path], timeout: 10) }
            #expect(validate.status == 2)
            #expect(validate.stderr.contains("\(path):3: server[0].listen-backlog"))
        }

        @Test func corruptKeyFileIsAnErrorAndLeftUntouched() async throws {
            let daemon = try await offCooperativePool { try NTPDaemonProcess(nts: true) }
            defer { daemon.remove() }
            _ = try await offCooperativePool { daemon.stop() }
            var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: daemon.keyPath)))
            bytes[bytes.count / 2] ^= 0x40
            try Data(bytes).write(to: URL(fileURLWithPath: daemon.keyPath))
            let result = try await offCooperativePool { try ChildProcess.run(TestPaths.pendulumNTPD, ["--config", daemon.configPath], timeout: 10) }
            #expect(result.status == 1)
            #expect(result.stderr.contains("corrupt"), "\(result.stderr)")
            #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: daemon.keyPath))) == bytes)
        }

        @Test func busyPortIsAClearError() async throws {
            let daemon = try await offCooperativePool { try NTPDaemonProcess(nts: false) }
            defer { daemon.remove() }
            let second = try await offCooperativePool { try ChildProcess.run(TestPaths.pendulumNTPD, ["--config", daemon.configPath], timeout: 10) }
            #expect(second.status == 1)
            #expect(second.stderr.contains("cannot listen for NTP on 127.0.0.1:\(daemon.ntpPort)"), "\(second.stderr)")
        }

        @Test func missingCertificateIsAClearError() async throws {
            let daemon = try await offCooperativePool { try NTPDaemonProcess(nts: true) }
            defer { daemon.remove() }
            _ = try await offCooperativePool { daemon.stop() }
            let certificate = try #require(daemon.certificate)
            try FileManager.default.removeItem(atPath: certificate.certificatePath)
            let result = try await offCooperativePool { try ChildProcess.run(TestPaths.pendulumNTPD, ["--config", daemon.configPath], timeout: 10) }
            #expect(result.status == 1)
            #expect(result.stderr.contains("certificate-chain-path \(certificate.certificatePath): No such file or directory"), "\(result.stderr)")
        }

        /// Serving workers keep their own copy of the keyset and renew it only after an update:
        /// cookies NTS-KE mints under a key several rotations newer than the one the workers
        /// started with must still open (with one stale key kept, the first key is long gone).
        @Test func cookiesUnderAKeyRotatedInWhileServingOpen() async throws {
            let daemon = try await offCooperativePool { try NTPDaemonProcess(nts: true, keysetLines: ["rotation-period-seconds = 1", "stale-key-count = 1"]) }
            defer { daemon.remove() }
            let certificate = try #require(daemon.certificate)
            let arguments = [
                "query", "--nts", "--json", "--samples", "1", "--ca-file", certificate.certificatePath, "--ke-port", "\(daemon.ntsKEPort ?? 0)",
                "--port", "\(daemon.ntpPort)", "127.0.0.1",
            ]
            let first = try await offCooperativePool { try ChildProcess.run(TestPaths.pendulum, arguments, timeout: 15) }
            #expect(first.status == 0, "\(first.stderr)")
            try await Task.sleep(for: .milliseconds(3500))
            let later = try await offCooperativePool { try ChildProcess.run(TestPaths.pendulum, arguments, timeout: 15) }
            #expect(later.status == 0, "\(later.stderr)")
            // Both key exchanges are counted where an operator looks.
            let status = try await offCooperativePool { try daemon.status() }
            let keyExchange = try #require(status?.keyExchangeServers?.first, "no nts_ke_servers in pendulum status --json")
            #expect(keyExchange.listen.hasSuffix(":\(daemon.ntsKEPort ?? 0)"), "\(keyExchange.listen)")
            #expect(keyExchange.counters["accepted"] == 2 && keyExchange.counters["answered"] == 2, "\(keyExchange.counters)")
            let stopped = try await offCooperativePool { daemon.stop() }
            #expect(stopped.log.components(separatedBy: "rotated NTS cookie key").count >= 3, "\(stopped.log)")
            #expect(stopped.log.contains("nts-nak=0"), "\(stopped.log)")
        }

        @Test func rotationThatCannotBeSavedKeepsTheOldKeyAndSaysSoOnce() async throws {
            let daemon = try await offCooperativePool { try NTPDaemonProcess(nts: true, keysetLines: ["rotation-period-seconds = 1"]) }
            defer { daemon.remove() }
            // The key file's directory disappears under the running daemon: every save now fails.
            try FileManager.default.removeItem(at: daemon.directory)
            try await Task.sleep(for: .milliseconds(3500))
            let certificate = try #require(daemon.certificate)
            let nts = try await offCooperativePool { try ChildProcess.run(TestPaths.pendulum, [
                "query", "--nts", "--samples", "1", "--ca-file", certificate.certificatePath, "--ke-port", "\(daemon.ntsKEPort ?? 0)",
                "--port", "\(daemon.ntpPort)", "127.0.0.1",
            ], timeout: 15) }
            #expect(nts.status == 0, "\(nts.stderr)")
            let stopped = try await offCooperativePool { daemon.stop() }
            #expect(stopped.status == 0)
            #expect(stopped.log.components(separatedBy: "cannot save rotated keyset").count == 2, "\(stopped.log)")
            #expect(!stopped.log.contains("rotated NTS cookie key"), "\(stopped.log)")
        }
    }
}
