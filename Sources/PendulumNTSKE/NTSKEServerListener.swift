#if canImport(Glibc)
import Glibc
#endif
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import PendulumNTPServer
import PendulumNTS

/// Limits that keep one NTS-KE server healthy under hostile or broken clients.
package struct NTSKEServerLimits: Sendable {
    /// A request (with its End of Message) larger than this closes the connection.
    package var maximumRequestBytes: Int = 4096
    /// From TCP accept to the response being sent; slow and silent clients are cut off.
    package var connectionTimeout: TimeAmount = .seconds(5)
    /// Connections held at once; a new one beyond this sheds the longest-stalled one.
    package var maximumConcurrentConnections: Int = 512
    package var maximumConnectionsPerAddress: Int = 8
    /// Per IPv4 /24 or IPv6 /48.
    package var maximumConnectionsPerPrefix: Int = 64
    /// From accept to the first byte of the ClientHello.
    package var helloTimeout: TimeAmount = .seconds(2)
    /// From the first byte to the end of the TLS handshake.
    package var handshakeTimeout: TimeAmount = .seconds(2)
    /// From the end of the handshake to a complete request.
    package var requestTimeout: TimeAmount = .seconds(2)
    /// New connections per IPv4 /24 or IPv6 /48: on average one per this interval (zero: no
    /// limit), after a burst of `prefixRateBurst`.
    package var prefixRateInterval: TimeAmount = .milliseconds(125)
    package var prefixRateBurst: Int = 32
    /// Connections accepted per wake-up. Accepting and refusing costs microseconds, a
    /// handshake far more: large batches let refusals drain the accept queue instead of
    /// waiting behind handshakes. Each accepted connection holds a descriptor until it is
    /// refused, so a tight descriptor limit wants a small batch.
    package var acceptBatch: Int = 64

    package init() {}

    var admission: NTSKEAdmission.Limits {
        NTSKEAdmission.Limits(
            total: maximumConcurrentConnections, perAddress: maximumConnectionsPerAddress, perPrefix: maximumConnectionsPerPrefix,
            helloNanoseconds: helloTimeout.nanoseconds, handshakeNanoseconds: handshakeTimeout.nanoseconds,
            requestNanoseconds: requestTimeout.nanoseconds, connectionNanoseconds: connectionTimeout.nanoseconds,
            prefixRateIntervalNanoseconds: prefixRateInterval.nanoseconds, prefixRateBurst: Int64(prefixRateBurst)
        )
    }
}

/// What one complete request gets: given the bytes and the connection's TLS exporter secret,
/// the bytes to answer with.
package typealias NTSKERequestHandler = @Sendable (_ request: [UInt8], _ exporterSecret: [UInt8]) -> [UInt8]

/// Counters an operator (and the tests) can read.
package struct NTSKEServerCounters: Sendable, Equatable {
    package var accepted = 0
    package var answered = 0
    /// Refused at accept by the per-address or per-prefix limits (held or per second), or
    /// because every connection held was answering.
    package var refusedOverLimit = 0
    /// Closed to make room for a newer connection while the server was full.
    package var shed = 0
    /// Closed at a phase's deadline.
    package var timedOut = 0
    package var tooLarge = 0
    package var wrongALPN = 0
    package var tlsFailures = 0
    /// accept() failures (descriptors exhausted and the like).
    package var acceptFailures = 0

    /// By the names `pendulum status` and the metrics use.
    package var byClass: [String: Int] {
        [
            "accepted": accepted, "answered": answered, "refused_over_limit": refusedOverLimit, "shed": shed,
            "timed_out": timedOut, "too_large": tooLarge, "wrong_alpn": wrongALPN, "tls_failures": tlsFailures,
            "accept_failures": acceptFailures,
        ]
    }
}

/// What the listener tells its operator about, once per episode rather than per connection.
package enum NTSKEServerEvent: Sendable, CustomStringConvertible {
    /// accept() failed; accepting pauses briefly and the longest-stalled connections are shed.
    case acceptFailing(reason: String, holding: Int)
    /// Ten seconds without a failed accept.
    case acceptRecovered(failures: Int)
    /// Connections began to be shed (the server is full) or refused (a limit was reached);
    /// `cause` is the first one's.
    case overloaded(holding: Int, cause: String)
    /// Ten quiet seconds after an overload.
    case overloadEnded(shed: Int, refused: Int, timedOut: Int)

    package var description: String {
        switch self {
        case .acceptFailing(let reason, let holding):
            "accept failed (\(reason)) while holding \(holding) connections: pausing accepts, shedding the longest-stalled ones"
        case .acceptRecovered(let failures):
            "accept failures over: \(failures) in all"
        case .overloaded(let holding, let cause):
            "overloaded (\(cause)) while holding \(holding) connections; a summary follows after 10 quiet seconds"
        case .overloadEnded(let shed, let refused, let timedOut):
            "overload over: \(shed) connections shed, \(refused) refused by the per-address and per-network limits, \(timedOut) timed out"
        }
    }
}

/// The TLS side of an NTS-KE server (RFC 8915 §4): TLS 1.3 only, ALPN "ntske/1" required (a
/// handshake that did not negotiate it is closed, whatever the TLS library allowed), bounded
/// request size, per-phase deadlines and admission by `NTSKEAdmission`.
package final class NTSKEServerListener: Sendable {
    private let channel: Channel
    private let registry: NTSKEConnectionRegistry
    private let sweep: RepeatedTask
    /// What new connections are served with; replaced by `reloadCertificate` (a renewed
    /// certificate), while connections already open keep the context they started with.
    private let credentials: NIOLockedValueBox<Credentials>

    struct Credentials: Sendable {
        var chain: [NIOSSLCertificateSource]
        var key: NIOSSLPrivateKey
    }

    /// Reads the certificate chain and key, and checks that they make a TLS server context
    /// (the key belongs to the certificate).
    static func loadCredentials(certificateChainPath: String, privateKeyPath: String) throws -> Credentials {
        let chain = try NIOSSLCertificate.fromPEMFile(certificateChainPath).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(file: privateKeyPath, format: .pem)
        let credentials = Credentials(chain: chain, key: key)
        _ = try NIOSSLContext(configuration: serverConfiguration(credentials))
        return credentials
    }

    static func serverConfiguration(_ credentials: Credentials) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: credentials.chain, privateKey: .privateKey(credentials.key))
        configuration.minimumTLSVersion = .tlsv13
        configuration.applicationProtocols = [NTSKEClientConnection.alpn]
        return configuration
    }

    /// Serves new connections with the certificate and key in these files from now on; on
    /// any problem the old ones stay in use and the error says why.
    package func reloadCertificate(certificateChainPath: String, privateKeyPath: String) throws {
        let loaded = try Self.loadCredentials(certificateChainPath: certificateChainPath, privateKeyPath: privateKeyPath)
        credentials.withLockedValue { $0 = loaded }
    }

    package var localAddress: SocketAddress? { channel.localAddress }
    package var counters: NTSKEServerCounters { registry.counters }
    /// Connections held now.
    package var holding: Int { registry.holding }

    /// Binds and starts serving. The certificate chain and key are read here (and again by
    /// `reloadCertificate`); each connection gets its own TLS context built from them, because
    /// the key-log hook that yields the exporter secret is per context.
    package static func start(
        host: String, port: Int, certificateChainPath: String, privateKeyPath: String,
        limits: NTSKEServerLimits = NTSKEServerLimits(),
        isCompleteRequest: @escaping @Sendable ([UInt8]) -> Bool,
        respond: @escaping NTSKERequestHandler,
        onEvent: @escaping @Sendable (NTSKEServerEvent) -> Void = { _ in }
    ) async throws -> NTSKEServerListener {
        let credentials = NIOLockedValueBox(try loadCredentials(certificateChainPath: certificateChainPath, privateKeyPath: privateKeyPath))
        let registry = NTSKEConnectionRegistry(limits: limits.admission, onEvent: onEvent)
        let group = MultiThreadedEventLoopGroup.singleton
        let channel = try await ServerBootstrap(group: group)
            // A flood keeps the accept queue full; an honest SYN that finds it full is dropped
            // and retried a second later. The kernel caps this at net.core.somaxconn (4096).
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.maxMessagesPerRead, value: UInt(max(1, limits.acceptBatch)))
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { server in
                server.eventLoop.makeCompletedFuture {
                    // Without this, accept() failing for want of descriptors is retried at once,
                    // forever: a busy loop that also starves the connections being served.
                    try server.pipeline.syncOperations.addHandler(AcceptBackoffHandler(shouldForwardIOErrorCaught: false) { error in
                        registry.acceptFailed(error)
                        return .milliseconds(100)
                    })
                }
            }
            .childChannelInitializer { child in
                guard let admitted = registry.admit(child) else { return child.close() }
                return child.eventLoop.makeCompletedFuture {
                    let secret = NIOLockedValueBox<[UInt8]?>(nil)
                    var configuration = serverConfiguration(credentials.withLockedValue { $0 })
                    configuration.keyLogCallback = { line in
                        guard let exporterSecret = TLSKeyLog.exporterSecret(fromLine: Array(line.readableBytesView)) else { return }
                        secret.withLockedValue { $0 = exporterSecret }
                    }
                    let context = try NIOSSLContext(configuration: configuration)
                    try child.pipeline.syncOperations.addHandler(FirstByteWatcher(connection: admitted, registry: registry))
                    try child.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try child.pipeline.syncOperations.addHandler(NTSKEServerHandler(
                        connection: admitted, registry: registry, maximumRequestBytes: limits.maximumRequestBytes,
                        secret: secret, isComplete: isCompleteRequest, respond: respond
                    ))
                }
            }
            .bind(host: host, port: port)
            .get()
        let sweep = channel.eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(100), delay: .milliseconds(100)) { _ in
            registry.sweep()
        }
        return NTSKEServerListener(channel: channel, registry: registry, sweep: sweep, credentials: credentials)
    }

    private init(channel: Channel, registry: NTSKEConnectionRegistry, sweep: RepeatedTask, credentials: NIOLockedValueBox<Credentials>) {
        self.channel = channel
        self.registry = registry
        self.sweep = sweep
        self.credentials = credentials
    }

    package func close() async throws {
        sweep.cancel()
        try await channel.close()
        registry.closeAll()
    }
}

/// The first byte a client sends moves it from "awaiting ClientHello" to "handshaking"; after
/// that this handler leaves the pipeline.
private final class FirstByteWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let connection: NTSKEAdmission.ConnectionID
    private let registry: NTSKEConnectionRegistry

    init(connection: NTSKEAdmission.ConnectionID, registry: NTSKEConnectionRegistry) {
        self.connection = connection
        self.registry = registry
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        registry.entered(.handshaking, connection: connection)
        context.fireChannelRead(data)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}

private final class NTSKEServerHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let connection: NTSKEAdmission.ConnectionID
    private let registry: NTSKEConnectionRegistry
    private let maximumRequestBytes: Int
    private let secret: NIOLockedValueBox<[UInt8]?>
    private let isComplete: @Sendable ([UInt8]) -> Bool
    private let respond: NTSKERequestHandler
    private var request: [UInt8] = []
    private var alpnConfirmed = false
    private var finished = false

    init(
        connection: NTSKEAdmission.ConnectionID, registry: NTSKEConnectionRegistry, maximumRequestBytes: Int,
        secret: NIOLockedValueBox<[UInt8]?>, isComplete: @escaping @Sendable ([UInt8]) -> Bool, respond: @escaping NTSKERequestHandler
    ) {
        self.connection = connection
        self.registry = registry
        self.maximumRequestBytes = maximumRequestBytes
        self.secret = secret
        self.isComplete = isComplete
        self.respond = respond
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted(let negotiated) = event {
            guard negotiated == NTSKEClientConnection.alpn else {
                registry.count { $0.wrongALPN += 1 }
                finish(context)
                return
            }
            alpnConfirmed = true
            registry.entered(.awaitingRequest, connection: connection)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard alpnConfirmed, !finished else { return }
        var buffer = unwrapInboundIn(data)
        guard request.count + buffer.readableBytes <= maximumRequestBytes else {
            registry.count { $0.tooLarge += 1 }
            finish(context)
            return
        }
        request += buffer.readBytes(length: buffer.readableBytes) ?? []
        guard isComplete(request), let exporterSecret = secret.withLockedValue({ $0 }) else { return }
        registry.entered(.answering, connection: connection)
        let response = respond(request, exporterSecret)
        registry.count { $0.answered += 1 }
        finished = true
        let channel = context.channel
        context.writeAndFlush(NIOAny(context.channel.allocator.buffer(bytes: response))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        registry.count { $0.tlsFailures += 1 }
        finish(context)
    }

    private func finish(_ context: ChannelHandlerContext) {
        finished = true
        context.close(promise: nil)
    }
}
