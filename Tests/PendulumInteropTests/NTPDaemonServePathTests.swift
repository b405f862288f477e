import Foundation
import PendulumIO
import Testing

/// The batched serving path of pendulum-ntpd from outside: other clients (NTPsec's ntpdig),
/// wildcard binds answering from the address asked, several workers, and per-source limits.
extension NTPDaemonInteropTests {
    @Suite(.serialized) struct NTPDaemonServePathTests {
        static var ntpsecRoot: URL {
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent(".peers/ntpsec/usr")
        }

        /// ntpdig has no port option: the daemon also listens on 127.0.0.123:123, an address no
        /// other test uses.
        @Test func ntpdigFromNTPsecGetsAValidAnswer() async throws {
            let ntpdig = Self.ntpsecRoot.appendingPathComponent("bin/ntpdig").path
            guard FileManager.default.isExecutableFile(atPath: ntpdig) else {
                throw MissingProgram(name: "NTPsec ntpdig (\(ntpdig))", package: "ntpsec, unpacked by scripts/install-test-dependencies.sh")
            }
            let daemon = try await offCooperativePool { try NTPDaemonProcess(nts: false, extraListen: ["127.0.0.123:123"]) }
            defer { daemon.remove() }
            let root = Self.ntpsecRoot.path
            let result = try await offCooperativePool {
                try ChildProcess.run("/usr/bin/env", [
                    "PYTHONPATH=\(root)/lib/python3/dist-packages", "LD_LIBRARY_PATH=\(root)/lib/x86_64-linux-gnu/ntp",
                    ntpdig, "-j", "-t", "2", "127.0.0.123",
                ], timeout: 20)
            }
            #expect(result.status == 0, "ntpdig: \(result.stdout) \(result.stderr)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "ntpdig: \(result.stdout)")
            #expect(json["stratum"] as? Int == 2)
            #expect(json["leap"] as? String == "no-leap")
            let offset = try #require(json["offset"] as? Double)
            #expect(abs(offset) < 0.5, "offset \(offset) s from our own clock")
            let stopped = try await offCooperativePool { daemon.stop() }
            #expect(stopped.log.contains("responded=1 "), "\(stopped.log)")
        }

        /// Bound to 0.0.0.0 with two workers, asked on 127.0.0.2 and 127.0.0.3: each reply comes
        /// from the address asked (a connected socket drops anything else), over several source
        /// ports, and IPv6 on [::] likewise.
        @Test func wildcardBindsAnswerFromTheAddressAskedWithSeveralWorkers() async throws {
            let port = freeUDPPort()
            let daemon = try await offCooperativePool {
                try NTPDaemonProcess(nts: false, serverLines: ["workers = 2", "rate-limit-interval-ms = 0"], extraListen: ["0.0.0.0:\(port)", "[::]:\(port)"])
            }
            defer { daemon.remove() }
            var answered = 0
            for (index, host) in ["127.0.0.2", "127.0.0.3", "::1", "127.0.0.1"].enumerated() {
                for _ in 0..<8 {
                    let address = try #require(SocketAddress(ip: host, port: host == "127.0.0.1" ? daemon.ntpPort : port))
                    let socket = try TimestampedUDPSocket(family: address.family, kernelTimestamps: false)
                    try socket.connect(to: address)
                    var request = [UInt8](repeating: 0, count: 48)
                    request[0] = 0x23
                    request[47] = UInt8(index)
                    _ = try socket.send(request)
                    if let reply = try socket.receive(timeout: .seconds(2)) {
                        #expect(reply.bytes.count == 48)
                        #expect(reply.bytes[0] & 7 == 4)
                        #expect(reply.bytes[31] == UInt8(index))
                        answered += 1
                    }
                }
            }
            #expect(answered == 32)
            let stopped = try await offCooperativePool { daemon.stop() }
            #expect(stopped.status == 0)
            #expect(stopped.log.contains("responded=32 "), "\(stopped.log)")
        }

        /// One source far over its rate: the burst is answered, then one RATE kiss, then
        /// silence; versions 1–5 and an extension-field bomb of hundreds of 4-byte fields are
        /// judged like any request. Every class shows in the counters.
        @Test func overTheRateVersionsAndTinyFieldBombsAreCounted() async throws {
            let daemon = try await offCooperativePool {
                try NTPDaemonProcess(nts: false, serverLines: ["rate-limit-interval-ms = 1000", "rate-limit-burst = 4"])
            }
            defer { daemon.remove() }
            let server = try #require(SocketAddress(ip: "127.0.0.1", port: daemon.ntpPort))
            let flood = try TimestampedUDPSocket(family: .ipv4, kernelTimestamps: false)
            try flood.connect(to: server)
            var request = [UInt8](repeating: 0, count: 48)
            request[0] = 0x23
            for _ in 0..<20 { _ = try flood.send(request) }
            var replies: [[UInt8]] = []
            while let reply = try flood.receive(timeout: .milliseconds(300)) { replies.append(reply.bytes) }
            let kisses = replies.filter { $0[1] == 0 }
            #expect(replies.count == 5, "burst of 4 and one kiss, got \(replies.count)")
            #expect(kisses.count == 1)
            #expect(kisses.first.map { Array($0[12..<16]) } == Array("RATE".utf8))
            #expect(replies.allSatisfy { $0.count <= 48 })

            // A fresh source (another loopback address) for each remaining probe class.
            func probe(_ bytes: [UInt8], from source: String) throws -> [UInt8]? {
                let socket = try TimestampedUDPSocket(family: .ipv4, kernelTimestamps: false)
                try socket.bind(to: #require(SocketAddress(ip: source, port: 0)))
                try socket.connect(to: server)
                _ = try socket.send(bytes)
                return try socket.receive(timeout: .milliseconds(300))?.bytes
            }
            for version: UInt8 in 1...5 {
                var versioned = request
                versioned[0] = version << 3 | 3
                let reply = try probe(versioned, from: "127.0.1.\(version)")
                if version <= 4 {
                    #expect(reply.map { ($0[0] >> 3) & 7 } == version, "version \(version)")
                } else {
                    #expect(reply == nil, "version 5 answered")
                }
            }
            // 400 four-byte "fields": below the 16-byte minimum, so the request is malformed.
            let tinyBomb = request + [UInt8](repeating: 0, count: 400).enumerated().map { $0.offset % 4 == 3 ? 4 : 0 }
            #expect(try probe(tinyBomb, from: "127.0.2.1") == nil)
            // 120 minimal 16-byte fields (2,008 bytes): well formed, answered with a bare header.
            var fieldBomb = request
            for index in 0..<120 { fieldBomb += [0x20, UInt8(index), 0x00, 0x10] + [UInt8](repeating: 0, count: 12) }
            let bombReply = try probe(fieldBomb, from: "127.0.2.2")
            #expect(bombReply?.count == 48)

            let stopped = try await offCooperativePool { daemon.stop() }
            #expect(stopped.status == 0)
            #expect(stopped.log.contains("responded=9 "), "\(stopped.log)")
            #expect(stopped.log.contains("kiss.RATE=1"), "\(stopped.log)")
            #expect(stopped.log.contains("drop.rateLimited=15"), "\(stopped.log)")
            #expect(stopped.log.contains("drop.unsupportedVersion=1"), "\(stopped.log)")
            #expect(stopped.log.contains("drop.malformed=1"), "\(stopped.log)")
        }
    }
}
