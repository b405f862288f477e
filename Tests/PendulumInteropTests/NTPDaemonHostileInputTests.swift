import Foundation
import PendulumIO
import Testing

/// Hostile datagrams against the running pendulum-ntpd over loopback: no crash, no reply larger
/// than its request, nothing but client requests answered, and every class counted.
extension NTPDaemonInteropTests {
    @Suite(.serialized) struct NTPDaemonHostileInputTests {
        /// Each probe carries its own transmit timestamp, so a reply names the probe it answers.
        func request(firstByte: UInt8, tag: UInt8, extra: [UInt8] = []) -> [UInt8] {
            [firstByte] + [UInt8](repeating: 0, count: 39) + [0xE0, 0, 0, 0, 0, 0, 0, tag] + extra
        }

        @Test func hostileDatagramsGetNoAmplificationAndAreCounted() async throws {
            let daemon = try await offCooperativePool { try NTPDaemonProcess(nts: false) }
            defer { daemon.remove() }
            let socket = try TimestampedUDPSocket(family: .ipv4, kernelTimestamps: false)
            let server = try #require(SocketAddress(ip: "127.0.0.1", port: daemon.ntpPort))
            try socket.connect(to: server)

            var probes: [(bytes: [UInt8], answered: Bool)] = []
            func add(_ firstByte: UInt8, extra: [UInt8] = [], truncatedTo length: Int? = nil, answered: Bool) {
                let bytes = request(firstByte: firstByte, tag: UInt8(probes.count + 1), extra: extra)
                probes.append((length.map { Array(bytes.prefix($0)) } ?? bytes, answered))
            }
            for mode: UInt8 in 0...7 where mode != 3 { add(4 << 3 | mode, answered: false) }
            for version: UInt8 in [0, 5, 6, 7] { add(version << 3 | 3, answered: false) }
            for length in [0, 1, 47] { add(0x23, truncatedTo: length, answered: false) }
            // Hundreds of tiny extension fields: valid, answered with a bare header.
            var bomb: [UInt8] = []
            for index in 0..<60 { bomb += [0x20, UInt8(index), 0x00, 0x10] + [UInt8](repeating: 0, count: 12) }
            add(0x23, extra: bomb, answered: true)
            // A field that claims more than the datagram holds.
            add(0x23, extra: [0x20, 0, 0x04, 0] + [UInt8](repeating: 0, count: 28), answered: false)
            // Larger than any request the server reads.
            add(0x23, extra: [UInt8](repeating: 0, count: 4000), answered: false)
            // Looks like a RATE kiss, but in client mode: a request like any other.
            add(0xE3, answered: true)
            probes[probes.count - 1].bytes.replaceSubrange(12..<16, with: Array("RATE".utf8))

            for probe in probes { try socket.send(probe.bytes) }
            var answeredTags: [UInt8] = []
            while let reply = try socket.receive(timeout: .milliseconds(300)) {
                let bytes = reply.bytes
                guard bytes.count >= 48 else { Issue.record("short reply of \(bytes.count) bytes"); continue }
                let tag = bytes[31]
                guard let probe = probes.indices.contains(Int(tag) - 1) ? probes[Int(tag) - 1] : nil else {
                    Issue.record("reply to no probe: origin tag \(tag)"); continue
                }
                #expect(probe.answered, "answered bad probe \(tag) of \(probe.bytes.count) bytes")
                #expect(bytes.count <= probe.bytes.count)
                #expect(bytes[0] & 7 == 4)
                answeredTags.append(tag)
            }
            let expected = probes.indices.filter { probes[$0].answered }.map { UInt8($0 + 1) }
            #expect(answeredTags.sorted() == expected)
            let stopped = try await offCooperativePool { daemon.stop() }
            #expect(stopped.status == 0)
            #expect(stopped.log.contains("responded=2 "), "\(stopped.log)")
            #expect(stopped.log.contains("drop.malformed=4"), "\(stopped.log)")
            #expect(stopped.log.contains("drop.oversized=1"), "\(stopped.log)")
            #expect(stopped.log.contains("drop.wrongMode=7"), "\(stopped.log)")
            #expect(stopped.log.contains("drop.unsupportedVersion=4"), "\(stopped.log)")
        }
    }
}
