import Foundation
import Testing

/// A renewed certificate without a restart: SIGHUP makes every NTS-KE listener re-read its
/// certificate and key for new connections, while chronyd, an NTS client from before, keeps
/// being answered with the cookies it has and never runs NTS-KE again.
extension NTPDaemonInteropTests {
    @Suite(.serialized) struct CertificateReloadTests {
        func query(_ daemon: NTPDaemonProcess, trusting caFile: String) async throws -> (status: Int32, stdout: String, stderr: String) {
            guard let port = daemon.ntsKEPort else { throw CertificateFailed(log: "no NTS-KE port") }
            return try await offCooperativePool {
                try ChildProcess.run(TestPaths.pendulum, ["query", "--nts", "--samples", "1", "--ke-port", "\(port)", "--ca-file", caFile, "127.0.0.1"], timeout: 20)
            }
        }

        @Test func sigHUPServesTheRenewedCertificateAndKeepsClientsAnswered() async throws {
            let daemon = try await offCooperativePool { try NTPDaemonProcess(nts: true) }
            defer { daemon.remove() }
            let served = try #require(daemon.certificate)
            let pid = try #require(daemon.processIdentifier)
            let chrony = try await offCooperativePool { try ChronyClient(serverPort: daemon.ntpPort, ntsKEPort: daemon.ntsKEPort, trustedCertificate: served.certificatePath) }
            defer { chrony.stop() }
            let source = try await chrony.waitForSource(timeout: 20) { $0.state == "*" && $0.reach & 0b111 == 0b111 }
            #expect(source?.state == "*", "chronyc shows no selected source:\n\(chrony.log)")
            let before = try #require(try await offCooperativePool { try chrony.authData() })

            // The certificate in use, kept aside; then a new one written over its files.
            let old = daemon.directory.appendingPathComponent("old-cert.pem").path
            try FileManager.default.copyItem(atPath: served.certificatePath, toPath: old)
            #expect(try await query(daemon, trusting: old).status == 0)
            let renewed = try TestCertificate()
            defer { renewed.remove() }
            for (from, to) in [(renewed.certificatePath, served.certificatePath), (renewed.privateKeyPath, served.privateKeyPath)] {
                try FileManager.default.removeItem(atPath: to)
                try FileManager.default.copyItem(atPath: from, toPath: to)
            }
            // Before the signal the old certificate is still what new clients get.
            #expect(try await query(daemon, trusting: old).status == 0)
            kill(pid, SIGHUP)
            try await Task.sleep(for: .milliseconds(500))
            #expect(daemon.log.contains("certificate \(served.certificatePath) and key \(served.privateKeyPath) reloaded for new connections"), "\(daemon.log)")
            let now = try await query(daemon, trusting: renewed.certificatePath)
            #expect(now.status == 0, "\(now.stderr)")
            #expect(now.stdout.contains("nts              authenticated"), "\(now.stdout)")
            let stale = try await query(daemon, trusting: old)
            #expect(stale.status != 0 && stale.stderr.contains("not trusted"), "\(stale.stdout)\(stale.stderr)")

            // A broken file on the next SIGHUP: the renewed certificate stays in use.
            try "not a certificate\n".write(toFile: served.certificatePath, atomically: true, encoding: .utf8)
            kill(pid, SIGHUP)
            try await Task.sleep(for: .milliseconds(500))
            #expect(daemon.log.contains("kept the certificate in use"), "\(daemon.log)")
            #expect(try await query(daemon, trusting: renewed.certificatePath).status == 0)

            // Anything else in the file is not applied, and the log says so.
            try String(contentsOfFile: daemon.configPath, encoding: .utf8).appending("# edited\n").write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
            kill(pid, SIGHUP)
            try await Task.sleep(for: .milliseconds(500))
            #expect(daemon.log.contains("has changed since the start; only certificate files are reloaded on SIGHUP"), "\(daemon.log)")

            // chronyd, keyed before all this, went on being answered with its cookies.
            let reachable = try await chrony.waitForSource(timeout: 5) { $0.reach == 0xFF }
            #expect(reachable?.reach == 0xFF, "\(String(describing: reachable))")
            let after = try #require(try await offCooperativePool { try chrony.authData() })
            #expect(after.keyEstablishmentAttempts == before.keyEstablishmentAttempts, "chrony had to run NTS-KE again")
            #expect(after.naks == before.naks)
            let stopped = try await offCooperativePool { daemon.stop() }
            #expect(stopped.status == 0, "\(stopped.log)")
        }
    }
}
