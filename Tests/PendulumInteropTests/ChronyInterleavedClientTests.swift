import Foundation
import Testing

/// chronyd -x with `xleave` as a client of pendulum-ntpd, plain and over NTS: it must get
/// interleaved responses (RFC 9769), carrying the kernel transmit timestamps of our earlier
/// responses, and with NTS they must also be authenticated.
extension NTPDaemonInteropTests {
    @Suite(.serialized) struct ChronyInterleavedClientTests {
        @Test(arguments: [false, true])
        func chronyWithXleaveReportsInterleavedResponses(nts: Bool) async throws {
            let daemon = try await offCooperativePool { try NTPDaemonProcess(nts: nts) }
            defer { daemon.remove() }
            let chrony = try await offCooperativePool {
                try ChronyClient(serverPort: daemon.ntpPort, ntsKEPort: nts ? daemon.ntsKEPort : nil,
                                 trustedCertificate: daemon.certificate?.certificatePath, xleave: true)
            }
            defer { chrony.stop() }
            let source = try await chrony.waitForSource(timeout: 20) { $0.state == "*" && $0.reach & 0b1111 == 0b1111 }
            #expect(source?.state == "*", "chronyc shows no selected source:\n\(chrony.log)")
            var report = ""
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline {
                report = try await offCooperativePool { try chrony.ntpData() }
                if report.range(of: #"Interleaved\s*:\s*Yes"#, options: .regularExpression) != nil { break }
                try await Task.sleep(for: .milliseconds(250))
            }
            #expect(report.range(of: #"Interleaved\s*:\s*Yes"#, options: .regularExpression) != nil, "chronyc ntpdata:\n\(report)")
            if nts {
                #expect(report.range(of: #"Authenticated\s*:\s*Yes"#, options: .regularExpression) != nil, "chronyc ntpdata:\n\(report)")
            }
            let stopped = try await offCooperativePool { daemon.stop() }
            #expect(stopped.status == 0)
            #expect(!stopped.log.contains("interleaved=0 "), "\(stopped.log)")
            if nts { #expect(!stopped.log.contains(" nts=0 "), "\(stopped.log)") }
        }
    }
}
