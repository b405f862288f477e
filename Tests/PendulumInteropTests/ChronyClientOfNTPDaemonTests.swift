import Foundation
import Testing

/// chronyd -x as a client of pendulum-ntpd on loopback, plain and NTS, and NTS cookies that
/// outlive a restart of the server.
extension NTPDaemonInteropTests {
    @Suite(.serialized) struct ChronyClientOfNTPDaemonTests {
        @Test func chronySynchronisesToOurPlainServer() async throws {
            let daemon = try await offCooperativePool { try NTPDaemonProcess(nts: false) }
            defer { daemon.remove() }
            let chrony = try await offCooperativePool { try ChronyClient(serverPort: daemon.ntpPort) }
            defer { chrony.stop() }
            let source = try await chrony.waitForSource(timeout: 20) { $0.state == "*" && $0.reach & 0b111 == 0b111 }
            let selected = try #require(source, "chronyc shows no source:\n\(chrony.log)")
            #expect(selected.state == "*", "not selected: \(selected)")
            #expect(abs(selected.offsetSeconds) < 0.001)
            let stopped = try await offCooperativePool { daemon.stop() }
            #expect(stopped.status == 0)
            #expect(stopped.log.contains("responded="))
        }

        @Test func chronyUsesNTSAndKeepsItsCookiesAcrossOurRestart() async throws {
            let daemon = try await offCooperativePool { try NTPDaemonProcess(nts: true) }
            defer { daemon.remove() }
            let certificate = try #require(daemon.certificate)
            let chrony = try await offCooperativePool { try ChronyClient(serverPort: daemon.ntpPort, ntsKEPort: daemon.ntsKEPort, trustedCertificate: certificate.certificatePath) }
            defer { chrony.stop() }

            let source = try await chrony.waitForSource(timeout: 20) { $0.state == "*" && $0.reach & 0b111 == 0b111 }
            let selected = try #require(source, "chronyc shows no source:\n\(chrony.log)")
            #expect(selected.state == "*")
            #expect(abs(selected.offsetSeconds) < 0.001)
            let before = try #require(try await offCooperativePool { try chrony.authData() })
            #expect(before.mode == "NTS")
            #expect(before.cookies > 0)

            // Restart with the same key file: the cookies chrony holds must still open.
            let firstRun = try await offCooperativePool { daemon.stop() }
            #expect(firstRun.status == 0)
            #expect(firstRun.log.contains("nts-nak=0"))
            try await offCooperativePool { try daemon.start() }
            // 8 polls at 2^-2 s: every reach bit set after the restart means every exchange worked.
            try await Task.sleep(for: .milliseconds(3000))
            let after = try #require(try await offCooperativePool { try chrony.authData() })
            let reachable = try await chrony.waitForSource(timeout: 5) { $0.reach == 0xFF }
            #expect(reachable?.reach == 0xFF, "source after restart: \(String(describing: reachable))")
            #expect(after.naks == before.naks, "chrony saw NTS NAKs after the restart")
            #expect(after.keyEstablishmentAttempts == before.keyEstablishmentAttempts, "chrony had to run NTS-KE again")
            #expect(after.cookies > 0)
            let secondRun = try await offCooperativePool { daemon.stop() }
            #expect(secondRun.status == 0)
            #expect(secondRun.log.contains("nts-nak=0"), "second run: \(secondRun.log)")
            #expect(!secondRun.log.contains(" nts=0 "), "second run answered no NTS request: \(secondRun.log)")
        }

        @Test func keyRotationWhileChronyIsAClientCausesNoNAKs() async throws {
            let daemon = try await offCooperativePool { try NTPDaemonProcess(nts: true, keysetLines: ["rotation-period-seconds = 1", "stale-key-count = 7"]) }
            defer { daemon.remove() }
            let certificate = try #require(daemon.certificate)
            let chrony = try await offCooperativePool { try ChronyClient(serverPort: daemon.ntpPort, ntsKEPort: daemon.ntsKEPort, trustedCertificate: certificate.certificatePath) }
            defer { chrony.stop() }
            let source = try await chrony.waitForSource(timeout: 20) { $0.reach & 0b111 == 0b111 }
            #expect(source != nil, "chronyc shows no source:\n\(chrony.log)")
            let before = try #require(try await offCooperativePool { try chrony.authData() })
            // Several rotations while chrony keeps polling with cookies sealed under older keys.
            try await Task.sleep(for: .milliseconds(4000))
            let after = try #require(try await offCooperativePool { try chrony.authData() })
            #expect(after.naks == before.naks)
            #expect(after.keyEstablishmentAttempts == before.keyEstablishmentAttempts)
            #expect(try await offCooperativePool { try chrony.source() }?.reach == 0xFF)
            let stopped = try await offCooperativePool { daemon.stop() }
            #expect(stopped.log.contains("rotated NTS cookie key"), "\(stopped.log)")
            #expect(stopped.log.contains("nts-nak=0"), "\(stopped.log)")
        }
    }
}

extension NTPDaemonInteropTests.ChronyClientOfNTPDaemonTests {
    /// `kill -9` while keys rotate every second, then a restart on the same key file: every
    /// cookie chrony holds still opens (no NAK, no new NTS-KE), because a rotated keyset is
    /// saved before any cookie is sealed with it.
    @Test func killedDuringKeyRotationThenRestartedLosesNothing() async throws {
        let daemon = try await offCooperativePool { try NTPDaemonProcess(nts: true, keysetLines: ["rotation-period-seconds = 1", "stale-key-count = 30"]) }
        defer { daemon.remove() }
        let certificate = try #require(daemon.certificate)
        let chrony = try await offCooperativePool { try ChronyClient(serverPort: daemon.ntpPort, ntsKEPort: daemon.ntsKEPort, trustedCertificate: certificate.certificatePath) }
        defer { chrony.stop() }
        let source = try await chrony.waitForSource(timeout: 20) { $0.reach & 0b111 == 0b111 }
        #expect(source != nil, "chronyc shows no source:\n\(chrony.log)")
        // Let several rotations happen (cookies sealed under several keys), then kill.
        try await Task.sleep(for: .milliseconds(3500))
        #expect(daemon.log.contains("rotated NTS cookie key"), "\(daemon.log)")
        let before = try #require(try await offCooperativePool { try chrony.authData() })
        try await offCooperativePool { daemon.kill9() }
        try await offCooperativePool { try daemon.start() }
        try await Task.sleep(for: .milliseconds(3000))
        let reachable = try await chrony.waitForSource(timeout: 5) { $0.reach & 0b1111 == 0b1111 }
        #expect(reachable != nil, "not reachable after the restart")
        let after = try #require(try await offCooperativePool { try chrony.authData() })
        #expect(after.naks == before.naks, "chrony saw NTS NAKs after kill -9 and restart")
        #expect(after.keyEstablishmentAttempts == before.keyEstablishmentAttempts, "chrony had to run NTS-KE again")
        let stopped = try await offCooperativePool { daemon.stop() }
        #expect(stopped.log.contains("nts-nak=0"), "\(stopped.log)")
        #expect(!stopped.log.contains(" nts=0 "), "answered no NTS request after the restart: \(stopped.log)")
    }
}
