import Foundation
import Testing

/// `pendulum query --nts` against NTPsec 1.2.2's NTS server: a second, independent NTS
/// implementation (OpenSSL, its own record and cookie code).
@Suite(.serialized) struct NTSQueryAgainstNTPsecTests {
    /// NTPsec here cannot be synchronised (it may not steer the clock and has no chronyd -x
    /// equivalent), so its answer is a kiss-o'-death INIT. Our client only looks at a reply's
    /// header after the reply authenticated with the NTS keys: reporting INIT proves NTS-KE (TLS
    /// 1.3, ALPN, records, cookies), the exporter keys and the AEAD all interoperate; a failed
    /// authentication would have ended in "no reply" instead.
    @Test func keyExchangeAndAuthenticatedReplyInteroperate() throws {
        let certificate = try TestCertificate()
        defer { certificate.remove() }
        let ntpsec = try NTPsecServer(certificate: certificate)
        defer { ntpsec.stop() }
        let result = try ChildProcess.run(TestPaths.pendulum, ["query", "--nts", "--timeout", "5", "--ca-file", certificate.certificatePath, "127.0.0.1"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("kiss-o'-death INIT"), "stderr: \(result.stderr)\nntpsec: \(ntpsec.log.suffix(2000))")
    }
}
