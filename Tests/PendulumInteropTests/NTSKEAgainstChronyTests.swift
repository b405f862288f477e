import Foundation
import PendulumNTSKE
import Testing

/// The NTS-KE TLS transport against chronyd's NTS-KE server: TLS 1.3, ALPN, certificate checks
/// and the exporter secret. Records here are built and read by hand (RFC 8915 §4) so that this
/// test checks the transport independently of the record codec.
@Suite(.serialized) struct NTSKEAgainstChronyTests {
    /// Next Protocol Negotiation [NTPv4], AEAD Algorithm Negotiation [15], End of Message.
    static let request: [UInt8] = [0x80, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x04, 0x00, 0x02, 0x00, 0x0F, 0x80, 0x00, 0x00, 0x00]

    /// (critical, type, body) triples until End of Message; nil while incomplete.
    static func records(_ bytes: [UInt8]) -> [(critical: Bool, type: Int, body: [UInt8])]? {
        var result: [(Bool, Int, [UInt8])] = []
        var index = 0
        while index + 4 <= bytes.count {
            let type = Int(bytes[index] & 0x7F) << 8 | Int(bytes[index + 1])
            let length = Int(bytes[index + 2]) << 8 | Int(bytes[index + 3])
            guard index + 4 + length <= bytes.count else { return nil }
            result.append((bytes[index] & 0x80 != 0, type, Array(bytes[index + 4..<index + 4 + length])))
            index += 4 + length
            if type == 0 { return result }
        }
        return nil
    }

    @Test(arguments: ["127.0.0.1", "localhost"])
    func exchangeWithChronyYieldsCookiesAndAnExporterSecret(host: String) async throws {
        let certificate = try TestCertificate()
        defer { certificate.remove() }
        let chrony = try ChronyServer(certificate: certificate)
        defer { chrony.stop() }
        let connection = NTSKEClientConnection(host: host, port: Int(try #require(chrony.ntsKEPort)), caFile: certificate.certificatePath)
        let transcript = try await connection.exchange(request: Self.request) { Self.records($0) != nil }
        #expect([32, 48].contains(transcript.exporterSecret.count))
        let records = try #require(Self.records(transcript.response))
        #expect(records.contains { $0.type == 1 && $0.body == [0, 0] })
        #expect(records.contains { $0.type == 4 && $0.body == [0, 15] })
        #expect(records.filter { $0.type == 5 }.count == 8)
        #expect(!records.contains { $0.type == 2 }, "server sent an Error record")
    }

    @Test func untrustedCertificateIsRefused() async throws {
        let certificate = try TestCertificate()
        defer { certificate.remove() }
        let chrony = try ChronyServer(certificate: certificate)
        defer { chrony.stop() }
        let connection = NTSKEClientConnection(host: "127.0.0.1", port: Int(try #require(chrony.ntsKEPort)))
        await #expect(throws: NTSKEConnectionError.self) {
            _ = try await connection.exchange(request: Self.request) { Self.records($0) != nil }
        }
    }

    @Test func wrongHostNameIsRefused() async throws {
        let certificate = try TestCertificate()
        defer { certificate.remove() }
        let chrony = try ChronyServer(certificate: certificate)
        defer { chrony.stop() }
        // Valid chain, but the certificate does not name 127.0.0.2.
        let connection = NTSKEClientConnection(host: "127.0.0.2", port: Int(try #require(chrony.ntsKEPort)), caFile: certificate.certificatePath)
        await #expect(throws: NTSKEConnectionError.self) {
            _ = try await connection.exchange(request: Self.request) { Self.records($0) != nil }
        }
    }
}
