import Foundation
import PendulumIO
import Testing

/// Hostile datagrams against the running pendulum-ntpd over loopback: no crash, no reply larger
/// than its request, nothing but client requests answered, and every class counted.
@Suite(.serialized) struct NTPDaemonHostileInputTests {
    func request(firstByte: UInt8, extra: [UInt8] = []) -> [UInt8] {
        [firstByte] + [UInt8](repeating: 0, count: 39) + [0xE0, 0, 0, 0, 0, 0, 0, 1] + extra
    }

    @Test func hostileDatagramsGetNoAmplificationAndAreCounted() throws {
        let daemon = try NTPDaemonProcess(nts: false)
        defer { daemon.remove() }
        let socket = try TimestampedUDPSocket(family: .ipv4)
        let server = try #require(SocketAddress(ip: "127.0.0.1", port: daemon.ntpPort))
        try socket.connect(to: server)

        var probes: [(bytes: [UInt8], answered: Bool)] = []
        for mode: UInt8 in 0...7 where mode != 3 { probes.append((request(firstByte: 4 << 3 | mode), false)) }
        for version: UInt8 in [0, 5, 6, 7] { probes.append((request(firstByte: version << 3 | 3), false)) }
        for length in [0, 1, 47] { probes.append((Array(request(firstByte: 0x23).prefix(length)), false)) }
        // Hundreds of tiny extension fields: valid, answered with a bare header.
        var bomb: [UInt8] = []
        for index in 0..<60 { bomb += [0x20, UInt8(index), 0x00, 0x10] + [UInt8](repeating: 0, count: 12) }
        probes.append((request(firstByte: 0x23, extra: bomb), true))
        // A field that claims more than the datagram holds.
        probes.append((request(firstByte: 0x23, extra: [0x20, 0, 0x04, 0] + [UInt8](repeating: 0, count: 28)), false))
        // Larger than any request the server reads.
        probes.append((request(firstByte: 0x23, extra: [UInt8](repeating: 0, count: 4000)), false))
        // Looks like a RATE kiss, but in client mode: a request like any other.
        var kissLike = request(firstByte: 0xE3)
        kissLike.replaceSubrange(12..<16, with: Array("RATE".utf8))
        probes.append((kissLike, true))

        for probe in probes {
            try socket.send(probe.bytes)
            let reply = try socket.receive(timeout: .milliseconds(300))
            if probe.answered {
                let bytes = try #require(reply?.bytes, "no answer to a valid request of \(probe.bytes.count) bytes")
                #expect(bytes.count <= probe.bytes.count)
                #expect(bytes.first.map { $0 & 7 } == 4)
            } else {
                #expect(reply == nil, "answered a bad request of \(probe.bytes.count) bytes, first byte \(probe.bytes.first ?? 0)")
            }
        }
        let stopped = daemon.stop()
        #expect(stopped.status == 0)
        #expect(stopped.log.contains("responded=2 "), "\(stopped.log)")
        #expect(stopped.log.contains("drop.malformed=4"), "\(stopped.log)")
        #expect(stopped.log.contains("drop.oversized=1"), "\(stopped.log)")
        #expect(stopped.log.contains("drop.wrongMode=7"), "\(stopped.log)")
        #expect(stopped.log.contains("drop.unsupportedVersion=4"), "\(stopped.log)")
    }
}
