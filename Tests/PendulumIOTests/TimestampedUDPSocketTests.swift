import Glibc
import PendulumTime
import Testing
@testable import PendulumIO

@Suite struct TimestampedUDPSocketTests {
    func loopbackPair(_ ip: String, kernelTimestamps: Bool = true) throws -> (TimestampedUDPSocket, TimestampedUDPSocket, SocketAddress) {
        let family: SocketAddress.Family = ip.contains(":") ? .ipv6 : .ipv4
        let server = try TimestampedUDPSocket(family: family, kernelTimestamps: kernelTimestamps)
        guard let any = SocketAddress(ip: ip, port: 0) else { throw SystemCallError("parse", code: 0) }
        try server.bind(to: any)
        let client = try TimestampedUDPSocket(family: family, kernelTimestamps: kernelTimestamps)
        return (server, client, try server.localAddress())
    }

    @Test(arguments: ["127.0.0.1", "::1"])
    func kernelTimestampsBothWaysOnLoopback(ip: String) throws {
        let (server, client, address) = try loopbackPair(ip)
        #expect(server.kernelTimestampingEnabled)
        // Linux enables stack-wide receive timestamping lazily after the first request for it:
        // let one datagram through (and a moment pass) before asserting kernel timestamps.
        try client.send([0], to: address)
        _ = try server.receive(timeout: .seconds(2))
        usleep(20_000)
        let before = WallClock.now()
        let sent = try client.send([1, 2, 3, 4], to: address)
        let datagram = try #require(try server.receive(timeout: .seconds(2)))
        let after = WallClock.now()
        #expect(datagram.bytes == [1, 2, 3, 4])
        #expect(!datagram.wasTruncated)
        #expect(sent.source == .kernel)
        #expect(datagram.timestamp.source == .kernel)
        // Kernel timestamps lie within the user-space window around them, in order.
        #expect(before <= sent.time && sent.time <= datagram.timestamp.time && datagram.timestamp.time <= after)
        #expect(datagram.sender.ipString == (ip == "::1" ? "::1" : "127.0.0.1"))
    }

    @Test func fallsBackToUserSpaceTimestampsAndSaysSo() throws {
        let (server, client, address) = try loopbackPair("127.0.0.1", kernelTimestamps: false)
        let sent = try client.send([9], to: address)
        let datagram = try #require(try server.receive(timeout: .seconds(2)))
        #expect(sent.source == .userSpace)
        #expect(datagram.timestamp.source == .userSpace)
        #expect(sent.time <= datagram.timestamp.time)
    }

    @Test func receiveTimesOutWithNil() throws {
        let (server, _, _) = try loopbackPair("127.0.0.1")
        let start = MonotonicClock.now()
        #expect(try server.receive(timeout: .milliseconds(50)) == nil)
        #expect(MonotonicClock.now() - start >= .milliseconds(50))
    }

    @Test func oversizedDatagramsAreMarkedTruncated() throws {
        let (server, client, address) = try loopbackPair("127.0.0.1")
        try client.send(Array(repeating: 7, count: 3000), to: address)
        let datagram = try #require(try server.receive(timeout: .seconds(2), capacity: 100))
        #expect(datagram.bytes.count == 100)
        #expect(datagram.wasTruncated)
    }

    @Test func connectedSocketReportsRefusalFromAClosedPort() throws {
        let (server, client, address) = try loopbackPair("127.0.0.1")
        _ = server  // keep the port's owner alive until we have its number, then let it go
        let closedPort = address.withPort(address.port == 65535 ? 65534 : address.port + 1)
        try client.connect(to: closedPort)
        try client.send([0])
        #expect(throws: SystemCallError.self) {
            for _ in 0..<3 { _ = try client.receive(timeout: .milliseconds(200)) }
        }
    }

    @Test func addressesParseAndPrint() throws {
        let v4 = try #require(SocketAddress(ip: "192.0.2.7", port: 123))
        #expect(v4.description == "192.0.2.7:123")
        #expect(v4.addressBytes == [192, 0, 2, 7])
        let v6 = try #require(SocketAddress(ip: "2001:db8::1", port: 4460))
        #expect(v6.description == "[2001:db8::1]:4460")
        #expect(v6.withPort(1).port == 1)
        #expect(SocketAddress(ip: "not-an-ip", port: 1) == nil)
        #expect(try NameResolver.resolve("[::1]", port: 5) == [SocketAddress(ip: "::1", port: 5)])
        #expect(throws: NameResolutionError.self) { try NameResolver.resolve("no-such-host.invalid", port: 1) }
    }
}
