import Foundation
import NIOCore
import NIOPosix
import Testing
@testable import PendulumNTS
@testable import PendulumNTSKE

/// A self-signed certificate for 127.0.0.1 and localhost, made with the openssl tool.
struct TestCertificate {
    let directory: String
    var certificate: String { directory + "/cert.pem" }
    var key: String { directory + "/key.pem" }

    init(subjectAltName: String = "IP:127.0.0.1,DNS:localhost") throws {
        directory = NSTemporaryDirectory() + "pendulum-ntske-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                             "-keyout", directory + "/key.pem", "-out", directory + "/cert.pem", "-days", "2",
                             "-subj", "/CN=localhost", "-addext", "subjectAltName=" + subjectAltName]
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CocoaError(.fileWriteUnknown) }
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}

@Suite(.serialized) struct NTSKELoopbackTests {
    @Test func clientAndServerDeriveTheSameKeysOverTLS() async throws {
        let certificate = try TestCertificate()
        defer { certificate.remove() }
        var random = SystemRandomSource()
        let keyset = CookieKeyset.generate(now: 0, random: &random)
        let server = try await NTSKEServer.start(
            NTSKEServerConfiguration(port: 0, certificateChainPath: certificate.certificate, privateKeyPath: certificate.key,
                                     negotiation: NTSKEServerNegotiation(ntpPort: 11123)),
            keyset: { keyset }
        )
        let port = try #require(server.port)
        for host in ["127.0.0.1", "localhost"] {
            let outcome = try await NTSKEClient.exchange(NTSKEClientConfiguration(host: host, port: port, caFile: certificate.certificate))
            #expect(outcome.result.aead == .aesSIVCMAC256)
            #expect(outcome.result.cookies.count == 8)
            #expect(outcome.result.port == 11123)
            // The server sealed its own exporter-derived keys into the cookie; they must be the
            // client's, derived independently from the client's side of the same TLS session.
            let opened = try keyset.openCookie(outcome.result.cookies[0])
            #expect(opened.keys == outcome.keys)
            #expect(opened.aead == .aesSIVCMAC256)
        }
        try await server.close()
    }

    @Test func untrustedCertificateIsRefused() async throws {
        let certificate = try TestCertificate()
        defer { certificate.remove() }
        var random = SystemRandomSource()
        let keyset = CookieKeyset.generate(now: 0, random: &random)
        let server = try await NTSKEServer.start(
            NTSKEServerConfiguration(port: 0, certificateChainPath: certificate.certificate, privateKeyPath: certificate.key),
            keyset: { keyset }
        )
        let port = try #require(server.port)
        await #expect(throws: (any Error).self) {
            _ = try await NTSKEClient.exchange(NTSKEClientConfiguration(host: "127.0.0.1", port: port, timeout: .seconds(3)))
        }
        try await server.close()
    }

    @Test func certificateForAnotherNameIsRefused() async throws {
        let certificate = try TestCertificate(subjectAltName: "DNS:time.example")
        defer { certificate.remove() }
        var random = SystemRandomSource()
        let keyset = CookieKeyset.generate(now: 0, random: &random)
        let server = try await NTSKEServer.start(
            NTSKEServerConfiguration(port: 0, certificateChainPath: certificate.certificate, privateKeyPath: certificate.key),
            keyset: { keyset }
        )
        let port = try #require(server.port)
        for host in ["127.0.0.1", "localhost"] {
            await #expect(throws: NTSKEConnectionError.self, "trusted certificate, wrong name: \(host)") {
                _ = try await NTSKEClient.exchange(NTSKEClientConfiguration(host: host, port: port, caFile: certificate.certificate, timeout: .seconds(3)))
            }
        }
        try await server.close()
    }

    @Test func silentClientIsClosedWithinTheTimeoutWhileAnHonestOneGetsCookies() async throws {
        let certificate = try TestCertificate()
        defer { certificate.remove() }
        var random = SystemRandomSource()
        let keyset = CookieKeyset.generate(now: 0, random: &random)
        let server = try await NTSKEServer.start(
            NTSKEServerConfiguration(port: 0, certificateChainPath: certificate.certificate, privateKeyPath: certificate.key, timeout: .milliseconds(500)),
            keyset: { keyset }
        )
        let port = try #require(server.port)
        // A plain TCP client that never speaks.
        let silent = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get()
        let outcome = try await NTSKEClient.exchange(NTSKEClientConfiguration(host: "127.0.0.1", port: port, caFile: certificate.certificate))
        #expect(outcome.result.cookies.count == 8)
        let start = ContinuousClock.now
        try await silent.closeFuture.get()
        #expect(ContinuousClock.now - start < .seconds(3))
        try await server.close()
    }
}
