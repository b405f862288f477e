import Foundation
import Testing

/// `pendulum query --nts` against chronyd's NTS-KE and NTS-protected NTP, as a user runs it.
@Suite(.serialized) struct NTSQueryAgainstChronyTests {
    @Test(arguments: [true, false])
    func authenticatedQueryReportsNTSFields(explicitPort: Bool) throws {
        let certificate = try TestCertificate()
        defer { certificate.remove() }
        let chrony = try ChronyServer(stratum: 2, certificate: certificate)
        defer { chrony.stop() }
        // Without --port the NTP port comes from chrony's NTS-KE Port record.
        var arguments = ["query", "--nts", "--json", "--ca-file", certificate.certificatePath, "--ke-port", "\(try #require(chrony.ntsKEPort))"]
        if explicitPort { arguments += ["--port", "\(chrony.port)"] }
        let result = try ChildProcess.run(TestPaths.pendulum, arguments + ["127.0.0.1"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["nts"] as? Bool == true)
        #expect(object["aead"] as? Int == 15)
        #expect((object["cookies"] as? Int ?? 0) >= 1)
        #expect(object["port"] as? Int == Int(chrony.port))
        #expect(object["stratum"] as? Int == 2)
        let offset = try #require(object["offset_seconds"] as? Double)
        #expect(abs(offset) < 0.001, "offset \(offset)")
    }

    @Test func untrustedServerIsAOneLineFailure() throws {
        let certificate = try TestCertificate()
        defer { certificate.remove() }
        let chrony = try ChronyServer(certificate: certificate)
        defer { chrony.stop() }
        let result = try ChildProcess.run(TestPaths.pendulum, ["query", "--nts", "--timeout", "3", "--ke-port", "\(try #require(chrony.ntsKEPort))", "127.0.0.1"])
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.split(separator: "\n").count == 1, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("NTS-KE"), "stderr: \(result.stderr)")
    }
}
