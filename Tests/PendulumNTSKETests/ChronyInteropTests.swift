import Foundation
import Glibc
import Testing
import PendulumNTP
@testable import PendulumNTS
@testable import PendulumNTSKE
import PendulumTime

/// A chronyd started by the test (never touching the clock: -x), in its own directory.
struct ChronyServer {
    static let executable = "/usr/sbin/chronyd"
    static var isAvailable: Bool { FileManager.default.isExecutableFile(atPath: executable) }

    let process = Process()
    let ntpPort: Int
    let kePort: Int

    init(certificate: TestCertificate) throws {
        ntpPort = Int.random(in: 20_000..<40_000)
        kePort = ntpPort + 20_000
        let directory = certificate.directory
        let config = """
            pidfile \(directory)/chronyd.pid
            bindcmdaddress /
            cmdport 0
            port \(ntpPort)
            bindaddress 127.0.0.1
            ntsport \(kePort)
            ntsserverkey \(certificate.key)
            ntsservercert \(certificate.certificate)
            ntsdumpdir \(directory)
            local stratum 10
            allow 127.0.0.1
            ntsprocesses 0
            """
        try config.write(toFile: directory + "/chrony.conf", atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = ["-x", "-d", "-u", "root", "-f", directory + "/chrony.conf"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    /// SIGKILL: the test process runs with SIGTERM blocked and children inherit the mask, so
    /// chronyd would never see a SIGTERM. `ntsprocesses 0` keeps it a single process.
    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

/// One blocking UDP exchange on loopback with a receive timeout.
func udpExchange(_ request: [UInt8], port: Int, timeoutSeconds: Int = 2) -> [UInt8]? {
    let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    guard descriptor >= 0 else { return nil }
    defer { close(descriptor) }
    var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
    setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    let sent = withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(descriptor, request, request.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard sent == request.count else { return nil }
    var buffer = [UInt8](repeating: 0, count: 2048)
    let count = recv(descriptor, &buffer, buffer.count, 0)
    return count > 0 ? Array(buffer.prefix(count)) : nil
}

func now() -> NTPTimestamp {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    return NTPTimestamp(UnixTime(spec))
}

@Suite(.serialized, .enabled(if: ChronyServer.isAvailable, "chronyd not installed"))
struct ChronyInteropTests {
    @Test func ourClientGetsAuthenticatedTimeFromChrony() async throws {
        let certificate = try TestCertificate()
        defer { certificate.remove() }
        let chrony = try ChronyServer(certificate: certificate)
        defer { chrony.stop() }

        var outcome: NTSKEClientOutcome?
        for _ in 0..<100 where outcome == nil {
            outcome = try? await NTSKEClient.exchange(NTSKEClientConfiguration(host: "127.0.0.1", port: chrony.kePort, caFile: certificate.certificate))
            if outcome == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        let ke = try #require(outcome, "NTS-KE with chronyd failed")
        #expect(ke.result.aead == .aesSIVCMAC256)
        #expect(ke.result.cookies.count == 8)

        var association = try NTSClientAssociation(result: ke.result, keys: ke.keys)
        var random = SystemRandomSource()
        let port = ke.result.port.map(Int.init) ?? chrony.ntpPort
        for round in 0..<3 {
            let transmit = now()
            let request = try association.makeRequest(header: NTPHeader(mode: .client, transmitTimestamp: transmit), random: &random)
            let response = try #require(udpExchange(request, port: port), "no NTP answer from chronyd in round \(round)")
            let received = now()

            var tampered = response
            tampered[response.count - 1] ^= 1
            var probe = association
            #expect(probe.handleResponse(tampered) == .ignored(.authenticationFailed))

            guard case .authenticated(let header, let newCookies) = association.handleResponse(response) else {
                Issue.record("chrony's response did not authenticate: \(association.handleResponse(response))"); return
            }
            #expect(header.originTimestamp == transmit)
            #expect(header.stratum == 10 || header.stratum == 11)
            #expect(newCookies >= 1)
            #expect(association.jar.count == 8)
            // Same machine, same clock: the true offset is zero, so the measured one can only be
            // off by the path asymmetry, at most half the round-trip delay. (The < 1 ms figure
            // belongs to `pendulum query`, measured on a quiet machine, not to a loaded test run.)
            let offset = ((header.receiveTimestamp - transmit) + (header.transmitTimestamp - received)).seconds / 2
            let delay = ((received - transmit) - (header.transmitTimestamp - header.receiveTimestamp)).seconds
            #expect(abs(offset) <= delay / 2 + 0.000_1, "offset \(offset) s, delay \(delay) s")
            #expect(association.handleResponse(response) == .ignored(.unknownUniqueIdentifier), "replay ignored")
        }
    }
}
