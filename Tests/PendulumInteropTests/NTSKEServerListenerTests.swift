import Foundation
import NIOCore
import NIOSSL
import PendulumNTSKE
import Testing

/// The NTS-KE server's TLS side under honest and hostile clients. The protocol answer here is
/// a fixed reply from the test: what is checked is the transport's behaviour.
@Suite struct NTSKEServerListenerTests {
    static let request = NTSKEAgainstChronyTests.request
    static let cannedReply: [UInt8] = [0x80, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x04, 0x00, 0x02, 0x00, 0x0F, 0x80, 0x00, 0x00, 0x00]

    func withServer(timeout: TimeAmount = .seconds(1), _ body: (NTSKEServerListener, TestCertificate) async throws -> Void) async throws {
        let certificate = try TestCertificate()
        defer { certificate.remove() }
        var limits = NTSKEServerLimits()
        limits.connectionTimeout = timeout
        limits.maximumRequestBytes = 1024
        let server = try await NTSKEServerListener.start(
            host: "127.0.0.1", port: 0, certificateChainPath: certificate.certificatePath, privateKeyPath: certificate.privateKeyPath,
            limits: limits, isCompleteRequest: { NTSKEAgainstChronyTests.records($0) != nil },
            respond: { _, secret in secret.isEmpty ? [] : Self.cannedReply }
        )
        do {
            try await body(server, certificate)
        } catch {
            try? await server.close()
            throw error
        }
        try await server.close()
    }

    func port(_ server: NTSKEServerListener) throws -> Int {
        try #require(server.localAddress?.port)
    }

    @Test func honestClientGetsTheAnswer() async throws {
        try await withServer { server, certificate in
            let client = NTSKEClientConnection(host: "127.0.0.1", port: try port(server), caFile: certificate.certificatePath)
            let transcript = try await client.exchange(request: Self.request) { NTSKEAgainstChronyTests.records($0) != nil }
            #expect(transcript.response == Self.cannedReply)
            #expect([32, 48].contains(transcript.exporterSecret.count))
            #expect(server.counters.answered == 1)
        }
    }

    @Test func tls12ClientIsRefused() async throws {
        try await withServer { server, certificate in
            var client = RawTLSClient(port: try port(server), caFile: certificate.certificatePath)
            client.minimumVersion = .tlsv12
            client.maximumVersion = .tlsv12
            let outcome = try await client.run(sending: [Self.request], wait: .seconds(3))
            #expect(outcome.closedByServer)
            #expect(outcome.received.isEmpty)
            #expect(server.counters.answered == 0)
        }
    }

    @Test func wrongALPNIsClosed() async throws {
        try await withServer { server, certificate in
            var client = RawTLSClient(port: try port(server), caFile: certificate.certificatePath)
            client.alpn = ["http/1.1"]
            let outcome = try await client.run(sending: [Self.request], wait: .seconds(3))
            #expect(outcome.closedByServer)
            #expect(outcome.received.isEmpty)
            #expect(server.counters.answered == 0)
        }
    }

    @Test func oversizedRequestIsClosed() async throws {
        // A long deadline, so that only the size cap can be what closes the connection even when
        // the test runner is slow to send.
        try await withServer(timeout: .seconds(20)) { server, certificate in
            let client = RawTLSClient(port: try port(server), caFile: certificate.certificatePath)
            // A "warning" record with a 2000-byte body and no End of Message.
            let huge: [UInt8] = [0x00, 0x03, 0x07, 0xD0] + Array(repeating: 0x41, count: 2000)
            let outcome = try await client.run(sending: [huge], wait: .seconds(15))
            #expect(outcome.closedByServer)
            #expect(outcome.received.isEmpty)
            #expect(server.counters.tooLarge == 1)
        }
    }

    @Test func missingEndOfMessageIsClosedAtTheDeadline() async throws {
        try await withServer(timeout: .seconds(1)) { server, certificate in
            let client = RawTLSClient(port: try port(server), caFile: certificate.certificatePath)
            let outcome = try await client.run(sending: [Array(Self.request.dropLast(4))], wait: .seconds(4))
            #expect(outcome.closedByServer)
            #expect(outcome.seconds < 3)
            #expect(outcome.received.isEmpty)
        }
    }

    @Test func garbageInsteadOfTLSIsClosed() async throws {
        try await withServer { server, _ in
            let result = rawTCPExchange(port: UInt16(try port(server)), sending: Array("GET / HTTP/1.1\r\n\r\n".utf8), wait: 3)
            #expect(result.closedByServer)
        }
    }

    @Test func silentClientIsCutOffWhileAnHonestOneIsServed() async throws {
        try await withServer(timeout: .seconds(1)) { server, certificate in
            let serverPort = try port(server)
            async let silent = Task.detached { rawTCPExchange(port: UInt16(serverPort), sending: [], wait: 4) }.value
            try await Task.sleep(nanoseconds: 100_000_000)
            let client = NTSKEClientConnection(host: "127.0.0.1", port: serverPort, caFile: certificate.certificatePath)
            let transcript = try await client.exchange(request: Self.request) { NTSKEAgainstChronyTests.records($0) != nil }
            #expect(transcript.response == Self.cannedReply)
            let slowloris = await silent
            #expect(slowloris.closedByServer)
            #expect(slowloris.seconds < 3)
            #expect(server.counters.timedOut >= 1)
        }
    }
}
