import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import PendulumNTS

public struct NTSKEServerConfiguration: Sendable {
    public var host: String
    /// 0 picks a free port (see `NTSKEServer.port`).
    public var port: Int
    public var certificateChainPath: String
    public var privateKeyPath: String
    public var negotiation: NTSKEServerNegotiation
    /// Each connection must finish (handshake, request, response) within this time; a silent
    /// or slow client is closed when it runs out.
    public var timeout: TimeAmount
    /// Connections beyond this are closed at once, leaving the server healthy.
    public var maximumConnections: Int
    public var limits: NTSKELimits

    public init(host: String = "127.0.0.1", port: Int = 4460, certificateChainPath: String, privateKeyPath: String,
                negotiation: NTSKEServerNegotiation = NTSKEServerNegotiation(), timeout: TimeAmount = .seconds(5),
                maximumConnections: Int = 128, limits: NTSKELimits = .standard) {
        self.host = host
        self.port = port
        self.certificateChainPath = certificateChainPath
        self.privateKeyPath = privateKeyPath
        self.negotiation = negotiation
        self.timeout = timeout
        self.maximumConnections = maximumConnections
        self.limits = limits
    }
}

struct TooManyConnections: Error {}

/// NTS-KE server over TLS 1.3 (swift-nio-ssl) around `NTSKEServerNegotiation`. Cookies are
/// minted with whatever keyset `keyset` returns at the time (the daemon rotates and persists it).
public final class NTSKEServer: Sendable {
    private let channel: any Channel
    private let connections: NIOLockedValueBox<Int>

    public var port: Int? { channel.localAddress?.port }
    public var activeConnections: Int { connections.withLockedValue { $0 } }

    private init(channel: any Channel, connections: NIOLockedValueBox<Int>) {
        self.channel = channel
        self.connections = connections
    }

    public static func start(_ configuration: NTSKEServerConfiguration,
                             keyset: @escaping @Sendable () -> CookieKeyset,
                             group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> NTSKEServer {
        let chain = try NIOSSLCertificate.fromPEMFile(configuration.certificateChainPath)
        let key = try NIOSSLPrivateKey(file: configuration.privateKeyPath, format: .pem)
        let connections = NIOLockedValueBox(0)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let admitted = connections.withLockedValue { count -> Bool in
                    guard count < configuration.maximumConnections else { return false }
                    count += 1
                    return true
                }
                guard admitted else { return channel.eventLoop.makeFailedFuture(TooManyConnections()) }
                channel.closeFuture.whenComplete { _ in connections.withLockedValue { $0 -= 1 } }
                return channel.eventLoop.makeCompletedFuture {
                    // One TLS context per connection, so its key-log callback reports this
                    // connection's exporter secret and no other.
                    let secret = NIOLockedValueBox<[UInt8]?>(nil)
                    var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
                    tls.minimumTLSVersion = .tlsv13
                    tls.applicationProtocols = ["ntske/1"]
                    tls.keyLogCallback = { line in
                        if let exporter = TLSKeyLog.exporterSecret(fromLine: Array(line.readableBytesView)) {
                            secret.withLockedValue { $0 = exporter }
                        }
                    }
                    let context = try NIOSSLContext(configuration: tls)
                    let handler = NTSKEServerHandler(configuration: configuration, secret: secret, keyset: keyset)
                    try channel.pipeline.syncOperations.addHandlers([NIOSSLServerHandler(context: context), handler])
                }
            }
        let channel = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
        return NTSKEServer(channel: channel, connections: connections)
    }

    public func close() async throws {
        try await channel.close()
    }
}

final class NTSKEServerHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let configuration: NTSKEServerConfiguration
    private let secret: NIOLockedValueBox<[UInt8]?>
    private let keyset: @Sendable () -> CookieKeyset
    private var decoder: NTSKEMessageDecoder
    private var protocolAgreed = false
    private var answered = false
    private var timer: Scheduled<Void>?

    init(configuration: NTSKEServerConfiguration, secret: NIOLockedValueBox<[UInt8]?>, keyset: @escaping @Sendable () -> CookieKeyset) {
        self.configuration = configuration
        self.secret = secret
        self.keyset = keyset
        self.decoder = NTSKEMessageDecoder(limits: configuration.limits)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: configuration.timeout) {
            channel.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted(let negotiated) = event {
            // TLS libraries may finish the handshake without ALPN; RFC 8915 requires ntske/1.
            guard negotiated == "ntske/1" else {
                context.close(promise: nil)
                return
            }
            protocolAgreed = true
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard protocolAgreed, !answered else { return }
        let buffer = unwrapInboundIn(data)
        let records: [NTSKERecord]?
        do {
            records = try decoder.receive(buffer.readableBytesView)
        } catch {
            answer(NTSKEServerNegotiation.errorResponse(.badRequest), context: context)
            return
        }
        guard let records else { return }
        switch configuration.negotiation.evaluate(records) {
        case .refuse(let response, _):
            answer(response, context: context)
        case .agreed(let agreement):
            guard let exporter = secret.withLockedValue({ $0 }), let hash = TLSKeyLog.hash(forSecretLength: exporter.count) else {
                answer(NTSKEServerNegotiation.errorResponse(.internalServerError), context: context)
                return
            }
            let keys = NTSKeys.derive(exporterSecret: exporter, hash: hash, nextProtocol: agreement.nextProtocol, aead: agreement.aead)
            let current = keyset()
            var random = SystemRandomSource()
            var cookies: [[UInt8]] = []
            for _ in 0..<configuration.negotiation.cookieCount {
                cookies.append(current.mintCookie(aead: agreement.aead, keys: keys, random: &random))
            }
            answer(configuration.negotiation.response(for: agreement, cookies: cookies), context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Handshake failures (TLS 1.2 clients, bad certificates) and resets end the connection.
        context.close(promise: nil)
    }

    private func answer(_ bytes: [UInt8], context: ChannelHandlerContext) {
        answered = true
        let buffer = context.channel.allocator.buffer(bytes: bytes)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in channel.close(promise: nil) }
    }
}
