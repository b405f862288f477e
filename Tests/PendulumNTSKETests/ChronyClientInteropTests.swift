import Foundation
import Glibc
import Testing
import PendulumNTP
@testable import PendulumNTS
@testable import PendulumNTSKE
import PendulumTime

/// State shared between the test, the NTS-KE server's closure and the UDP responder thread.
final class Shared<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<Result>(_ body: (inout Value) -> Result) -> Result {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}

/// A minimal NTS NTP responder on a blocking loopback socket, driven by NTSServerHandler.
/// It records the master key id of the cookie in every request it authenticates.
final class NTSResponderThread: @unchecked Sendable {
    let port: Int
    let keyset: Shared<CookieKeyset>
    let authenticatedKeyIDs = Shared<[UInt32]>([])
    let naks = Shared(0)
    let stopping = Shared(false)
    private let descriptor: Int32
    private let finished = DispatchSemaphore(value: 0)

    init?(port: Int, keyset: Shared<CookieKeyset>) {
        self.port = port
        self.keyset = keyset
        descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard descriptor >= 0, bound == 0 else { return nil }
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        Thread { self.run() }.start()
    }

    func stop() {
        stopping.withLock { $0 = true }
        finished.wait()
        close(descriptor)
    }

    private func run() {
        var random = SystemRandomSource()
        var buffer = [UInt8](repeating: 0, count: 2048)
        while !stopping.withLock({ $0 }) {
            var peer = sockaddr_storage()
            var peerLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let count = withUnsafeMutablePointer(to: &peer) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(descriptor, &buffer, buffer.count, 0, $0, &peerLength) }
            }
            guard count > 0 else { continue }
            let received = now()
            let request = Array(buffer.prefix(count))
            let current = keyset.withLock { $0 }
            let reply: [UInt8]
            switch NTSServerHandler.authenticate(request, keyset: current) {
            case .respond(let authenticated):
                if let packet = try? NTSPacket(parsing: request), let cookie = packet.firstValue(ofType: ExtensionFieldType.ntsCookie),
                   let id = Cookie.keyID(of: cookie) {
                    authenticatedKeyIDs.withLock { $0.append(id) }
                }
                let header = NTPHeader(
                    version: authenticated.header.version, mode: .server, stratum: 1, poll: authenticated.header.poll, precision: -20,
                    referenceID: ReferenceID(ascii: "PEND"), referenceTimestamp: received, originTimestamp: authenticated.header.transmitTimestamp,
                    receiveTimestamp: received, transmitTimestamp: now()
                )
                reply = NTSServerHandler.response(header: header, to: authenticated, keyset: current, random: &random)
            case .nak(let header, let uid):
                naks.withLock { $0 += 1 }
                reply = NTSServerHandler.nak(respondingTo: header, uniqueIdentifier: uid, transmit: now())
            case .drop:
                continue
            }
            _ = withUnsafePointer(to: &peer) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(descriptor, reply, reply.count, 0, $0, peerLength) }
            }
        }
        finished.signal()
    }
}

@Suite(.serialized, .enabled(if: ChronyServer.isAvailable, "chronyd not installed"))
struct ChronyClientInteropTests {
    /// chronyd as an NTS client of our NTS-KE server and NTS responder. The KE cookies are
    /// minted under master key A; right after KE the keyset rotates to key B, so a request
    /// carrying a key-B cookie proves chrony decrypted one of our NTP responses and took the
    /// fresh cookie from its encrypted part.
    @Test func chronyUsesCookiesFromOurAuthenticatedResponses() async throws {
        let certificate = try TestCertificate()
        defer { certificate.remove() }
        var random = SystemRandomSource()
        let keyset = Shared(CookieKeyset.generate(now: 0, random: &random))
        let keyA = keyset.withLock { $0.current.id }
        let ntpPort = Int.random(in: 20_000..<40_000)
        let keysIssued = Shared(0)
        let server = try await NTSKEServer.start(
            NTSKEServerConfiguration(port: 0, certificateChainPath: certificate.certificate, privateKeyPath: certificate.key,
                                     negotiation: NTSKEServerNegotiation(ntpPort: UInt16(ntpPort))),
            keyset: { keysIssued.withLock { $0 += 1 }; return keyset.withLock { $0 } }
        )
        defer { Task { try? await server.close() } }
        let kePort = try #require(server.port)
        let responder = try #require(NTSResponderThread(port: ntpPort, keyset: keyset))

        let config = """
            pidfile \(certificate.directory)/chronyd.pid
            bindcmdaddress /
            cmdport 0
            port 0
            ntsdumpdir \(certificate.directory)
            ntstrustedcerts \(certificate.certificate)
            server 127.0.0.1 nts ntsport \(kePort) iburst minpoll -4 maxpoll -4
            """
        try config.write(toFile: certificate.directory + "/chrony-client.conf", atomically: true, encoding: .utf8)
        let chrony = Process()
        chrony.executableURL = URL(fileURLWithPath: ChronyServer.executable)
        chrony.arguments = ["-x", "-d", "-u", "root", "-f", certificate.directory + "/chrony-client.conf"]
        chrony.standardOutput = FileHandle.nullDevice
        chrony.standardError = FileHandle.nullDevice
        try chrony.run()
        defer { kill(chrony.processIdentifier, SIGKILL); chrony.waitUntilExit() }

        var rotated = false
        for _ in 0..<100 {
            try await Task.sleep(for: .milliseconds(100))
            if !rotated, keysIssued.withLock({ $0 }) > 0 {
                try await Task.sleep(for: .milliseconds(50))
                keyset.withLock { $0.rotate(now: 1, random: &random) }
                rotated = true
            }
            if responder.authenticatedKeyIDs.withLock({ $0.contains { $0 != keyA } }) { break }
        }
        let ids = responder.authenticatedKeyIDs.withLock { $0 }
        #expect(keysIssued.withLock { $0 } >= 1, "chrony never completed NTS-KE with us")
        #expect(ids.contains(keyA), "chrony never authenticated a request with a KE cookie")
        #expect(ids.contains { $0 != keyA }, "chrony never used a cookie from one of our NTP responses (ids: \(ids))")

        // Restart the NTP side: the keyset goes through the key file and a fresh responder
        // takes over the port. chrony's cookies must keep working, with no NAK.
        let path = certificate.directory + "/keys.bin"
        try KeysetFile.save(keyset.withLock { $0 }, path: path)
        responder.stop()
        let reloaded = try #require(try KeysetFile.load(path: path))
        let restarted = try #require(NTSResponderThread(port: ntpPort, keyset: Shared(reloaded)))
        defer { restarted.stop() }
        for _ in 0..<50 {
            try await Task.sleep(for: .milliseconds(100))
            if restarted.authenticatedKeyIDs.withLock({ $0.count }) >= 3 { break }
        }
        #expect(restarted.authenticatedKeyIDs.withLock { $0.count } >= 3, "chrony's cookies stopped working after the restart")
        #expect(restarted.naks.withLock { $0 } == 0)
    }
}
