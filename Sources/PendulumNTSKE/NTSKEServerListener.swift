import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import PendulumNTS

/// Limits that keep one NTS-KE server healthy under hostile or broken clients.
public struct NTSKEServerLimits: Sendable {
    /// A request (with its End of Message) larger than this closes the connection.
    public var maximumRequestBytes: Int = 4096
    /// From TCP accept to the response being sent; slow and silent clients are cut off.
    public var connectionTimeout: TimeAmount = .seconds(5)
    /// Connections beyond this are closed as soon as they are accepted.
    public var maximumConcurrentConnections: Int = 512

    public init() {}
}

/// What the protocol core does with one complete request: given the bytes and the connection's
/// TLS exporter secret, the bytes to answer with.
public typealias NTSKERequestHandler = @Sendable (_ request: [UInt8], _ exporterSecret: [UInt8]) -> [UInt8]

/// Counters an operator (and the tests) can read.
public struct NTSKEServerCounters: Sendable, Equatable {
    public var accepted = 0
    public var answered = 0
    public var refusedOverLimit = 0
    public var timedOut = 0
    public var tooLarge = 0
    public var wrongALPN = 0
    public var tlsFailures = 0
}

/// The TLS side of an NTS-KE server (RFC 8915 §4): TLS 1.3 only, ALPN "ntske/1" required (a
/// handshake that did not negotiate it is closed, whatever the TLS library allowed), bounded
/// request size, a per-connection deadline and a bound on concurrent connections.
public final class NTSKEServerListener: Sendable {
    private let channel: Channel
    private let state: NIOLockedValueBox<NTSKEServerCounters>

    public var localAddress: SocketAddress? { channel.localAddress }
    public var counters: NTSKEServerCounters { state.withLockedValue { $0 } }

    /// Binds and starts serving. The certificate chain and key are read once here; each
    /// connection gets its own TLS context built from them, because the key-log hook that
    /// yields the exporter secret is per context.
    public static func start(
        host: String, port: Int, certificateChainPath: String, privateKeyPath: String,
        limits: NTSKEServerLimits = NTSKEServerLimits(),
        isCompleteRequest: @escaping @Sendable ([UInt8]) -> Bool,
        respond: @escaping NTSKERequestHandler
    ) async throws -> NTSKEServerListener {
        let chain = try NIOSSLCertificate.fromPEMFile(certificateChainPath).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(file: privateKeyPath, format: .pem)
        let counters = NIOLockedValueBox(NTSKEServerCounters())
        let active = NIOLockedValueBox(0)
        let group = MultiThreadedEventLoopGroup.singleton
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                let admitted = active.withLockedValue { count -> Bool in
                    guard count < limits.maximumConcurrentConnections else { return false }
                    count += 1
                    return true
                }
                counters.withLockedValue { $0.accepted += 1 }
                guard admitted else {
                    counters.withLockedValue { $0.refusedOverLimit += 1 }
                    return child.close()
                }
                child.closeFuture.whenComplete { _ in active.withLockedValue { $0 -= 1 } }
                return child.eventLoop.makeCompletedFuture {
                    let secret = NIOLockedValueBox<[UInt8]?>(nil)
                    var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
                    configuration.minimumTLSVersion = .tlsv13
                    configuration.applicationProtocols = [NTSKEClientConnection.alpn]
                    configuration.keyLogCallback = { line in
                        guard let exporterSecret = TLSKeyLog.exporterSecret(fromLine: Array(line.readableBytesView)) else { return }
                        secret.withLockedValue { $0 = exporterSecret }
                    }
                    let context = try NIOSSLContext(configuration: configuration)
                    try child.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try child.pipeline.syncOperations.addHandler(NTSKEServerHandler(
                        limits: limits, secret: secret, counters: counters,
                        isComplete: isCompleteRequest, respond: respond
                    ))
                }
            }
            .bind(host: host, port: port)
            .get()
        return NTSKEServerListener(channel: channel, state: counters)
    }

    private init(channel: Channel, state: NIOLockedValueBox<NTSKEServerCounters>) {
        self.channel = channel
        self.state = state
    }

    public func close() async throws {
        try await channel.close()
    }
}

private final class NTSKEServerHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let limits: NTSKEServerLimits
    private let secret: NIOLockedValueBox<[UInt8]?>
    private let counters: NIOLockedValueBox<NTSKEServerCounters>
    private let isComplete: @Sendable ([UInt8]) -> Bool
    private let respond: NTSKERequestHandler
    private var request: [UInt8] = []
    private var alpnConfirmed = false
    private var finished = false
    private var deadline: Scheduled<Void>?

    init(
        limits: NTSKEServerLimits, secret: NIOLockedValueBox<[UInt8]?>, counters: NIOLockedValueBox<NTSKEServerCounters>,
        isComplete: @escaping @Sendable ([UInt8]) -> Bool, respond: @escaping NTSKERequestHandler
    ) {
        self.limits = limits
        self.secret = secret
        self.counters = counters
        self.isComplete = isComplete
        self.respond = respond
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        let counters = counters
        // A slowloris client that never finishes its handshake or request is cut off here.
        deadline = context.eventLoop.scheduleTask(in: limits.connectionTimeout) {
            counters.withLockedValue { $0.timedOut += 1 }
            channel.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted(let negotiated) = event {
            guard negotiated == NTSKEClientConnection.alpn else {
                counters.withLockedValue { $0.wrongALPN += 1 }
                finish(context)
                return
            }
            alpnConfirmed = true
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard alpnConfirmed, !finished else { return }
        var buffer = unwrapInboundIn(data)
        guard request.count + buffer.readableBytes <= limits.maximumRequestBytes else {
            counters.withLockedValue { $0.tooLarge += 1 }
            finish(context)
            return
        }
        request += buffer.readBytes(length: buffer.readableBytes) ?? []
        guard isComplete(request), let exporterSecret = secret.withLockedValue({ $0 }) else { return }
        let response = respond(request, exporterSecret)
        counters.withLockedValue { $0.answered += 1 }
        finished = true
        let channel = context.channel
        context.writeAndFlush(NIOAny(context.channel.allocator.buffer(bytes: response))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        counters.withLockedValue { $0.tlsFailures += 1 }
        finish(context)
    }

    private func finish(_ context: ChannelHandlerContext) {
        finished = true
        context.close(promise: nil)
    }
}
