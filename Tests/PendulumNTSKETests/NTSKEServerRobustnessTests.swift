import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import Testing
@testable import PendulumNTS
@testable import PendulumNTSKE

/// What a scripted TLS client saw: whether the handshake finished, what the server sent, and
/// how long until the server closed the connection.
struct RawTLSOutcome: Sendable {
    var handshakeCompleted = false
    var received: [UInt8] = []
    var closedAfter: Duration = .zero
}

final class RawTLSClientHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let payload: [UInt8]
    let promise: EventLoopPromise<RawTLSOutcome>
    var outcome = RawTLSOutcome()
    let start = ContinuousClock.now

    init(payload: [UInt8], promise: EventLoopPromise<RawTLSOutcome>) {
        self.payload = payload
        self.promise = promise
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event {
            outcome.handshakeCompleted = true
            if !payload.isEmpty {
                context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: payload)), promise: nil)
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        outcome.received += Array(unwrapInboundIn(data).readableBytesView)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        outcome.closedAfter = ContinuousClock.now - start
        promise.succeed(outcome)
    }
}

func rawTLSExchange(port: Int, caFile: String, alpn: [String] = ["ntske/1"], maximumTLSVersion: TLSVersion? = nil, payload: [UInt8] = []) async throws -> RawTLSOutcome {
    var tls = TLSConfiguration.makeClientConfiguration()
    tls.applicationProtocols = alpn
    tls.additionalTrustRoots = [.file(caFile)]
    if let maximumTLSVersion { tls.maximumTLSVersion = maximumTLSVersion }
    let context = try NIOSSLContext(configuration: tls)
    let group = MultiThreadedEventLoopGroup.singleton
    let promise = group.next().makePromise(of: RawTLSOutcome.self)
    let channel = try await ClientBootstrap(group: group).channelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandlers([
                try NIOSSLClientHandler(context: context, serverHostname: nil),
                RawTLSClientHandler(payload: payload, promise: promise),
            ])
        }
    }.connect(host: "127.0.0.1", port: port).get()
    // A client that the server never closes would hang the test: give up after 5 s.
    let guardTimer = channel.eventLoop.scheduleTask(in: .seconds(5)) { channel.close(promise: nil) }
    defer { guardTimer.cancel() }
    return try await promise.futureResult.get()
}

@Suite(.serialized) struct NTSKEServerRobustnessTests {
    static let serverTimeout = TimeAmount.milliseconds(700)

    func withServer(maximumConnections: Int = 128, _ body: (Int, TestCertificate) async throws -> Void) async throws {
        let certificate = try TestCertificate()
        defer { certificate.remove() }
        var random = SystemRandomSource()
        let keyset = CookieKeyset.generate(now: 0, random: &random)
        let server = try await NTSKEServer.start(
            NTSKEServerConfiguration(port: 0, certificateChainPath: certificate.certificate, privateKeyPath: certificate.key,
                                     timeout: Self.serverTimeout, maximumConnections: maximumConnections),
            keyset: { keyset }
        )
        let port = try #require(server.port)
        try await body(port, certificate)
        // An honest client still gets its cookies afterwards.
        let outcome = try await NTSKEClient.exchange(NTSKEClientConfiguration(host: "127.0.0.1", port: port, caFile: certificate.certificate))
        #expect(outcome.result.cookies.count == 8)
        try await server.close()
    }

    @Test func wrongALPNIsClosedWithoutAnAnswer() async throws {
        try await withServer { port, certificate in
            let outcome = try await rawTLSExchange(port: port, caFile: certificate.certificate, alpn: ["http/1.1"], payload: NTSKEClientExchange().request)
            #expect(outcome.received.isEmpty)
            #expect(outcome.closedAfter < .milliseconds(600), "closed at once, not by the timeout")
        }
    }

    @Test func tls12ClientIsRefused() async throws {
        try await withServer { port, certificate in
            let outcome = try await rawTLSExchange(port: port, caFile: certificate.certificate, maximumTLSVersion: .tlsv12, payload: NTSKEClientExchange().request)
            #expect(!outcome.handshakeCompleted)
            #expect(outcome.received.isEmpty)
        }
    }

    @Test func garbageGetsABadRequestErrorAndClose() async throws {
        try await withServer { port, certificate in
            let outcome = try await rawTLSExchange(port: port, caFile: certificate.certificate, payload: [0x12, 0x34, 0xFF, 0xFF, 0, 0])
            #expect(try NTSKEMessageDecoder.decodeMessage(outcome.received) == [.error(.badRequest), .endOfMessage])
        }
    }

    @Test func oversizedMessageGetsABadRequestErrorAndClose() async throws {
        try await withServer { port, certificate in
            let record = NTSKERecord(isCritical: false, type: 99, body: [UInt8](repeating: 0, count: 1000))
            let payload = [NTSKERecord](repeating: record, count: 17).serializedNTSKEMessage() ?? []
            let outcome = try await rawTLSExchange(port: port, caFile: certificate.certificate, payload: payload)
            #expect(try NTSKEMessageDecoder.decodeMessage(outcome.received) == [.error(.badRequest), .endOfMessage])
        }
    }

    @Test func missingEndOfMessageIsClosedByTheTimeout() async throws {
        try await withServer { port, certificate in
            let payload = Array(NTSKEClientExchange().request.dropLast(4))
            let outcome = try await rawTLSExchange(port: port, caFile: certificate.certificate, payload: payload)
            #expect(outcome.received.isEmpty)
            #expect(outcome.closedAfter >= .milliseconds(500) && outcome.closedAfter < .seconds(3))
        }
    }

    @Test func connectionsBeyondTheCapAreRefusedAndTheServerRecovers() async throws {
        try await withServer(maximumConnections: 2) { port, certificate in
            let group = MultiThreadedEventLoopGroup.singleton
            let silent = [
                try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: port).get(),
                try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: port).get(),
            ]
            try await Task.sleep(for: .milliseconds(100))
            let refused = try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: port).get()
            let start = ContinuousClock.now
            try await refused.closeFuture.get()
            #expect(ContinuousClock.now - start < .milliseconds(500), "the extra connection is closed at once")
            for channel in silent { try await channel.closeFuture.get() }
        }
    }
}
