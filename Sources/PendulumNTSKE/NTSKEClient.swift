import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import PendulumNTS

public struct NTSKEClientConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// A PEM file of extra trusted certificates, added to the system trust store.
    public var caFile: String?
    /// Bounds the whole exchange: connect, handshake, request and response.
    public var timeout: TimeAmount
    public var algorithms: [AEADAlgorithm]

    public init(host: String, port: Int = 4460, caFile: String? = nil, timeout: TimeAmount = .seconds(5),
                algorithms: [AEADAlgorithm] = [.aesSIVCMAC256, .aesSIVCMAC512]) {
        self.host = host
        self.port = port
        self.caFile = caFile
        self.timeout = timeout
        self.algorithms = algorithms
    }
}

/// A finished NTS-KE exchange: what was negotiated and the keys for NTP.
public struct NTSKEClientOutcome: Sendable {
    public var result: NTSKEClientResult
    public var keys: NTSKeys
}

public enum NTSKEConnectionError: Error, Sendable, CustomStringConvertible {
    /// The server did not agree to ALPN "ntske/1".
    case alpnNotNegotiated(String?)
    case exchange(NTSKEClientError)
    case timedOut
    /// TLS reported no exporter secret (or one of an unknown hash length).
    case noExporterSecret
    case tls(String)

    public var description: String {
        switch self {
        case .alpnNotNegotiated(let protocolName): "NTS-KE server did not negotiate ALPN ntske/1 (got \(protocolName ?? "none"))"
        case .exchange(let error): "NTS-KE exchange failed: \(error)"
        case .timedOut: "NTS-KE timed out"
        case .noExporterSecret: "TLS did not report an exporter secret"
        case .tls(let message): "TLS: \(message)"
        }
    }
}

/// NTS-KE client over TLS 1.3 (swift-nio-ssl): connects, negotiates, derives the NTS keys.
/// swift-nio-ssl has no exporter API, so the exporter master secret is taken from the key-log
/// callback of a TLS context made for this one connection and fed to `NTSKeys.derive`. The
/// secret never leaves this process and is never logged.
public enum NTSKEClient {
    public static func exchange(_ configuration: NTSKEClientConfiguration,
                                group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> NTSKEClientOutcome {
        let secret = NIOLockedValueBox<[UInt8]?>(nil)
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv13
        tls.applicationProtocols = ["ntske/1"]
        if let caFile = configuration.caFile { tls.additionalTrustRoots = [.file(caFile)] }
        tls.keyLogCallback = { line in
            if let exporter = TLSKeyLog.exporterSecret(fromLine: Array(line.readableBytesView)) {
                secret.withLockedValue { $0 = exporter }
            }
        }
        let context = try NIOSSLContext(configuration: tls)
        // SNI and name checks take a host name; for an address literal nio-ssl checks the
        // certificate's IP SANs against the connected address instead.
        let hostname: String? = isAddressLiteral(configuration.host) ? nil : configuration.host
        let eventLoop = group.next()
        let promise = eventLoop.makePromise(of: NTSKEClientOutcome.self)
        let algorithms = configuration.algorithms
        let timeout = configuration.timeout
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = NTSKEClientHandler(exchange: NTSKEClientExchange(offering: algorithms), secret: secret, promise: promise, timeout: timeout)
                    try channel.pipeline.syncOperations.addHandlers([try NIOSSLClientHandler(context: context, serverHostname: hostname), handler])
                }
            }
        do {
            _ = try await bootstrap.connect(host: configuration.host, port: configuration.port).get()
        } catch {
            promise.fail(error)
        }
        return try await promise.futureResult.get()
    }

    static func isAddressLiteral(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }
}

final class NTSKEClientHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var exchange: NTSKEClientExchange
    private let secret: NIOLockedValueBox<[UInt8]?>
    private let promise: EventLoopPromise<NTSKEClientOutcome>
    private let timeout: TimeAmount
    private var timer: Scheduled<Void>?
    private var done = false

    init(exchange: NTSKEClientExchange, secret: NIOLockedValueBox<[UInt8]?>, promise: EventLoopPromise<NTSKEClientOutcome>, timeout: TimeAmount) {
        self.exchange = exchange
        self.secret = secret
        self.promise = promise
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            self.complete(.failure(NTSKEConnectionError.timedOut), channel: channel)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted(let negotiated) = event {
            guard negotiated == "ntske/1" else {
                complete(.failure(NTSKEConnectionError.alpnNotNegotiated(negotiated)), channel: context.channel)
                return
            }
            let buffer = context.channel.allocator.buffer(bytes: exchange.request)
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !done else { return }
        let buffer = unwrapInboundIn(data)
        do {
            if let result = try exchange.receive(buffer.readableBytesView) {
                complete(outcome(result), channel: context.channel)
            }
        } catch {
            complete(.failure(NTSKEConnectionError.exchange(error)), channel: context.channel)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !done {
            do {
                complete(outcome(try exchange.finish()), channel: context.channel)
            } catch {
                complete(.failure(NTSKEConnectionError.exchange(error)), channel: context.channel)
            }
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        complete(.failure(NTSKEConnectionError.tls(String(describing: error))), channel: context.channel)
    }

    private func outcome(_ result: NTSKEClientResult) -> Result<NTSKEClientOutcome, any Error> {
        guard let exporter = secret.withLockedValue({ $0 }), let hash = TLSKeyLog.hash(forSecretLength: exporter.count) else {
            return .failure(NTSKEConnectionError.noExporterSecret)
        }
        let keys = NTSKeys.derive(exporterSecret: exporter, hash: hash, nextProtocol: result.nextProtocol, aead: result.aead)
        return .success(NTSKEClientOutcome(result: result, keys: keys))
    }

    private func complete(_ result: Result<NTSKEClientOutcome, any Error>, channel: any Channel) {
        guard !done else { return }
        done = true
        timer?.cancel()
        promise.completeWith(result)
        channel.close(promise: nil)
    }
}
