import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// A deliberately misbehaving TLS client for server tests: any TLS version range, any ALPN,
/// any bytes. It reports whether and when the server closed the connection.
struct RawTLSClient {
    var port: Int
    var caFile: String
    var minimumVersion: TLSVersion = .tlsv13
    var maximumVersion: TLSVersion? = nil
    var alpn: [String] = ["ntske/1"]

    struct Outcome {
        var received: [UInt8]
        var closedByServer: Bool
        var seconds: Double
    }

    /// Sends `payload` (in pieces, if given several) and waits up to `wait` for the server to
    /// close the connection.
    func run(sending payload: [[UInt8]], wait: TimeAmount) async throws -> Outcome {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = minimumVersion
        configuration.maximumTLSVersion = maximumVersion
        configuration.applicationProtocols = alpn
        configuration.additionalTrustRoots = [.file(caFile)]
        let context = try NIOSSLContext(configuration: configuration)
        let received = NIOLockedValueBox<[UInt8]>([])
        // Taken on the event loop when the connection ends: the test task itself may resume much
        // later when the test runner's threads are busy.
        let closedAt = NIOLockedValueBox<Date?>(nil)
        let start = Date()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil))
                    try channel.pipeline.syncOperations.addHandler(Collector(received: received, closedAt: closedAt))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        for piece in payload {
            try? await channel.writeAndFlush(channel.allocator.buffer(bytes: piece))
        }
        let closed = try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask { try? await channel.closeFuture.get(); return true }
            group.addTask { try await Task.sleep(nanoseconds: UInt64(wait.nanoseconds)); return false }
            let first = try await group.next() ?? false
            group.cancelAll()
            return first
        }
        if !closed { try? await channel.close() }
        let end = closedAt.withLockedValue { $0 } ?? Date()
        return Outcome(received: received.withLockedValue { $0 }, closedByServer: closed, seconds: end.timeIntervalSince(start))
    }

    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let received: NIOLockedValueBox<[UInt8]>
        let closedAt: NIOLockedValueBox<Date?>
        init(received: NIOLockedValueBox<[UInt8]>, closedAt: NIOLockedValueBox<Date?>) {
            self.received = received
            self.closedAt = closedAt
        }
        func channelInactive(context: ChannelHandlerContext) {
            closedAt.withLockedValue { $0 = Date() }
            context.fireChannelInactive()
        }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = unwrapInboundIn(data)
            let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
            received.withLockedValue { $0 += bytes }
        }
        func errorCaught(context: ChannelHandlerContext, error: Error) {
            context.close(promise: nil)
        }
    }
}

/// A plain TCP client that sends raw bytes (or nothing) and waits for the server to hang up.
func rawTCPExchange(port: UInt16, sending bytes: [UInt8], wait: Double) -> (closedByServer: Bool, seconds: Double) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let start = Date()
    let connected = withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { return (true, 0) }
    if !bytes.isEmpty { _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } }
    var buffer = [UInt8](repeating: 0, count: 4096)
    while Date().timeIntervalSince(start) < wait {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, 100) > 0 else { continue }
        let count = recv(fd, &buffer, buffer.count, 0)
        if count <= 0 { return (true, Date().timeIntervalSince(start)) }
    }
    return (false, Date().timeIntervalSince(start))
}
