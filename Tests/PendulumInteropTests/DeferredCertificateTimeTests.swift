import Foundation
import NIOCore
import PendulumNTS
import PendulumNTSKE
import Testing

/// NTS-KE with the certificate time check deferred (a clock years off at start), against a
/// real TLS 1.3 server on loopback whose certificate is valid only from a year ahead, made by
/// openssl. Everything but the validity period must still be checked: the chain to a trusted
/// root and the server's address.
@Suite struct DeferredCertificateTimeTests {
    /// A CA valid for three years and a leaf it signed, valid from a year ahead for a year.
    struct FutureCertificates {
        let directory: URL
        var caPath: String { directory.appendingPathComponent("ca.pem").path }
        var leafPath: String { directory.appendingPathComponent("leaf.pem").path }
        var keyPath: String { directory.appendingPathComponent("leaf-key.pem").path }
        let notBefore: Date

        init(subjectAltName: String, startInDays: Int = 365) throws {
            let openssl = try TestPaths.requireProgram("openssl", package: "openssl")
            let folder = try TestPaths.temporaryDirectory("future-cert")
            directory = folder
            let path = { (name: String) in folder.appendingPathComponent(name).path }
            func run(_ arguments: [String]) throws {
                let result = try ChildProcess.run(openssl, arguments)
                guard result.status == 0 else { throw CertificateFailed(log: result.stderr) }
            }
            try run(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1095",
                     "-subj", "/CN=Deferred test CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign",
                     "-keyout", path("ca-key.pem"), "-out", path("ca.pem")])
            try run(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=leaf",
                     "-keyout", path("leaf-key.pem"), "-out", path("leaf.csr")])
            try "subjectAltName=\(subjectAltName)\nextendedKeyUsage=serverAuth\n".write(toFile: path("extensions"), atomically: true, encoding: .utf8)
            try "".write(toFile: path("index"), atomically: true, encoding: .utf8)
            try "1000\n".write(toFile: path("serial"), atomically: true, encoding: .utf8)
            try """
                [ca]
                default_ca = test
                [test]
                unique_subject = no
                database = \(path("index"))
                new_certs_dir = \(folder.path)
                serial = \(path("serial"))
                default_md = sha256
                policy = anything
                [anything]
                commonName = supplied
                """.write(toFile: path("ca.conf"), atomically: true, encoding: .utf8)
            let start = Date().addingTimeInterval(Double(startInDays) * 86_400)
            let formatter = DateFormatter()
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.dateFormat = "yyyyMMddHHmmss'Z'"
            notBefore = start
            try run(["ca", "-batch", "-config", path("ca.conf"), "-cert", path("ca.pem"), "-keyfile", path("ca-key.pem"),
                     "-startdate", formatter.string(from: start), "-enddate", formatter.string(from: start.addingTimeInterval(365 * 86_400)),
                     "-extfile", path("extensions"), "-in", path("leaf.csr"), "-out", path("leaf.pem"), "-notext"])
        }

        func remove() { try? FileManager.default.removeItem(at: directory) }
    }

    static let reply: [UInt8] = NTSKEServerListenerTests.cannedReply

    /// An NTS-KE listener on loopback serving `certificates` and a canned reply.
    static func withServer(_ certificates: FutureCertificates, _ body: (Int) async throws -> Void) async throws {
        let server = try await NTSKEServerListener.start(
            host: "127.0.0.1", port: 0, certificateChainPath: certificates.leafPath, privateKeyPath: certificates.keyPath,
            limits: NTSKEServerLimits(), isCompleteRequest: { NTSKEAgainstChronyTests.records($0) != nil },
            respond: { _, secret in secret.isEmpty ? [] : Self.reply })
        do {
            try await body(try #require(server.localAddress?.port))
        } catch {
            try? await server.close()
            throw error
        }
        try await server.close()
    }

    func exchange(port: Int, caFile: String?, _ check: CertificateTimeCheck) async throws(NTSKEConnectionError) -> NTSKETranscript {
        let connection = NTSKEClientConnection(host: "127.0.0.1", port: port, caFile: caFile, certificateTime: check)
        return try await connection.exchange(request: NTSKEServerListenerTests.request) { NTSKEAgainstChronyTests.records($0) != nil }
    }

    @Test func aCertificateValidOnlyLaterIsRefusedByTheClockAndReportedWhenDeferred() async throws {
        let certificates = try FutureCertificates(subjectAltName: "IP:127.0.0.1")
        defer { certificates.remove() }
        try await Self.withServer(certificates) { port in
            await #expect(throws: NTSKEConnectionError.self) { try await exchange(port: port, caFile: certificates.caPath, .againstLocalClock) }
            do {
                _ = try await exchange(port: port, caFile: certificates.caPath, .againstLocalClock)
            } catch {
                guard case NTSKEConnectionError.certificateRefused = error else {
                    Issue.record("refused for another reason: \(error)")
                    return
                }
            }
            let transcript = try await exchange(port: port, caFile: certificates.caPath, .deferredUntilAgreement)
            #expect(transcript.response == Self.reply)
            let validity = try #require(transcript.certificateValidity)
            // The leaf's notBefore is the chain's latest; its notAfter (a year later) the earliest.
            let expectedStart = Int64(certificates.notBefore.timeIntervalSince1970)
            #expect(abs(validity.notBefore - expectedStart) <= 1, "\(validity.notBefore) against \(expectedStart)")
            #expect(abs(validity.notAfter - (expectedStart + 365 * 86_400)) <= 1)
            #expect(validity.keyIdentity.count > 60)  // a P-256 subjectPublicKeyInfo
        }
    }

    @Test func deferringTimeChecksNothingElseLess() async throws {
        // The wrong address.
        let elsewhere = try FutureCertificates(subjectAltName: "IP:192.0.2.7")
        defer { elsewhere.remove() }
        try await Self.withServer(elsewhere) { port in
            do {
                _ = try await exchange(port: port, caFile: elsewhere.caPath, .deferredUntilAgreement)
                Issue.record("a certificate for 192.0.2.7 was accepted for 127.0.0.1")
            } catch {
                // NIOSSL checks the name even when the chain's check is ours; ours would too.
                #expect("\(error)".contains("is not for the name or address asked for") || "\(error)".contains("not trusted"), "\(error)")
            }
        }
        // A CA nobody trusts.
        let untrusted = try FutureCertificates(subjectAltName: "IP:127.0.0.1")
        let other = try FutureCertificates(subjectAltName: "IP:127.0.0.1")
        defer { untrusted.remove(); other.remove() }
        try await Self.withServer(untrusted) { port in
            do {
                _ = try await exchange(port: port, caFile: other.caPath, .deferredUntilAgreement)
                Issue.record("a certificate from an untrusted CA was accepted")
            } catch {
                guard case NTSKEConnectionError.certificate(let reason) = error else {
                    Issue.record("refused for another reason: \(error)")
                    return
                }
                #expect(reason.contains("not trusted"), "\(reason)")
            }
        }
    }

    @Test func aCertificateValidNowNeedsNothingDeferred() async throws {
        let current = try FutureCertificates(subjectAltName: "IP:127.0.0.1", startInDays: -1)
        defer { current.remove() }
        try await Self.withServer(current) { port in
            let transcript = try await exchange(port: port, caFile: current.caPath, .deferredUntilAgreement)
            #expect(transcript.certificateValidity == nil)
            // The whole client: BoringSSL's own check passes, nothing is deferred.
            await #expect(throws: NTSKEClientFailure.self) {
                // The canned reply has no cookies: the protocol core refuses it, after TLS.
                _ = try await NTSKEClient.establish(host: "127.0.0.1", port: port, caFile: current.caPath, certificateTime: .deferredUntilAgreement)
            }
        }
    }
}
