#if canImport(Glibc)
    import Glibc
#endif
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import PendulumNTS

/// What one NTS-KE connection produced: the server's raw reply and the secret the NTS keys are
/// derived from.
package struct NTSKETranscript: Sendable {
    /// Every byte the server sent, up to and including its End of Message record.
    package var response: [UInt8]
    /// TLS 1.3's exporter master secret. Its length names the handshake hash: 32 bytes for
    /// SHA-256, 48 for SHA-384.
    package var exporterSecret: [UInt8]
    /// Set when the certificate time check was deferred and the chain is valid, but not at the
    /// local clock's time.
    package var certificateValidity: CertificateValidity?
}

/// Why an NTS-KE exchange did not complete.
package enum NTSKEConnectionError: Error, Sendable, CustomStringConvertible {
    case connectFailed(host: String, port: Int, reason: String)
    case tls(reason: String)
    /// BoringSSL refused the server's certificate chain, not saying why (expired, not yet
    /// valid, another name, no trusted CA): `NTSKEClient` finds out and says
    /// `.certificate(reason:)` where it can.
    case certificateRefused
    /// The server's certificate is not acceptable, and why.
    case certificate(reason: String)
    /// The CA file could not be loaded.
    case caFile(path: String, reason: String)
    /// The server completed the handshake without agreeing to ALPN "ntske/1" (RFC 8915 §4).
    case alpnNotNegotiated(String?)
    case noExporterSecret
    case responseTooLarge(limit: Int)
    case closedBeforeEndOfMessage(received: Int)
    case timedOut(seconds: Double)
    /// The waiting task was cancelled.
    case cancelled

    package var description: String {
        switch self {
        case .connectFailed(let host, let port, let reason): "NTS-KE connection to \(host) port \(port) failed: \(reason)"
        case .tls(let reason): "NTS-KE TLS failed: \(reason)"
        case .certificateRefused: "NTS-KE: the server's certificate was not accepted (expired, not yet valid, for another name, or not from a trusted CA)"
        case .certificate(let reason): "NTS-KE: \(reason)"
        case .caFile(let path, let reason): "NTS-KE: cannot use the CA file \(path): \(reason)"
        case .alpnNotNegotiated(let got): "NTS-KE server did not negotiate ALPN ntske/1 (got \(got ?? "none"))"
        case .noExporterSecret: "TLS library did not report the TLS 1.3 exporter secret"
        case .responseTooLarge(let limit): "NTS-KE response exceeds \(limit) bytes"
        case .closedBeforeEndOfMessage(let received): "NTS-KE server closed after \(received) bytes without End of Message"
        case .timedOut(let seconds): "NTS-KE exchange timed out after \(seconds) s"
        case .cancelled: "NTS-KE exchange cancelled"
        }
    }
}

/// The TLS side of an NTS-KE client (RFC 8915 §4): TLS 1.3 only, ALPN "ntske/1", certificate
/// and host verification against the system trust store plus an optional CA file. It sends the
/// request bytes it is given and returns what the server answered; building and judging
/// records is the protocol core's job.
package struct NTSKEClientConnection: Sendable {
    package static let alpn = "ntske/1"
    /// chrony's limit, and a sane one: a KE response with eight cookies is well under 2 KiB.
    package static let maximumResponseBytes = 16384

    package var host: String
    package var port: Int
    package var caFile: String?
    package var timeout: TimeAmount
    package var certificateTime: CertificateTimeCheck

    package init(
        host: String, port: Int = 4460, caFile: String? = nil, timeout: TimeAmount = .seconds(5),
        certificateTime: CertificateTimeCheck = .againstLocalClock
    ) {
        self.host = host
        self.port = port
        self.caFile = caFile
        self.timeout = timeout
        self.certificateTime = certificateTime
    }

    /// Runs one exchange. `isCompleteResponse` tells when the bytes so far end with End of
    /// Message, so the client need not wait for the server to close.
    package func exchange(
        request: [UInt8], isCompleteResponse: @escaping @Sendable ([UInt8]) -> Bool
    ) async throws(NTSKEConnectionError) -> NTSKETranscript {
        // One TLS context per connection: the key-log hook is per context, and this is how its
        // secret is tied to this connection and no other.
        let secrets = NIOLockedValueBox<[UInt8]?>(nil)
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv13
        configuration.applicationProtocols = [Self.alpn]
        if let caFile { configuration.additionalTrustRoots = [.file(caFile)] }
        configuration.keyLogCallback = { line in
            guard let exporterSecret = TLSKeyLog.exporterSecret(fromLine: Array(line.readableBytesView)) else { return }
            secrets.withLockedValue { $0 = exporterSecret }
        }
        let context: NIOSSLContext
        do {
            context = try NIOSSLContext(configuration: configuration)
        } catch {
            // The only file in a client's configuration is the CA file.
            if let caFile { throw .caFile(path: caFile, reason: Self.fileProblem(caFile, error)) }
            throw NTSKEErrorText.tlsFailure(error)
        }
        // SNI and name checks use the host name; for an IP literal NIOSSL checks the peer's
        // address against the certificate's IP SANs instead.
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        let isIPLiteral = (try? SocketAddress(ipAddress: bare, port: 0)) != nil
        let serverHostname = isIPLiteral ? nil : bare
        // A deferred-time run takes the server's chain as it comes and judges it once the
        // exchange is over (below), before anything it produced is used: judging it during the
        // handshake would stall it (loading the trust store takes seconds on a slow board) past
        // the server's handshake deadline. The request sent meanwhile holds no secret.
        let presented = NIOLockedValueBox<[NIOSSLCertificate]?>(nil)
        let deferred = certificateTime == .deferredUntilAgreement

        let group = MultiThreadedEventLoopGroup.singleton
        let eventLoop = group.next()
        let done = eventLoop.makePromise(of: [UInt8].self)
        let timeout = self.timeout
        let channel: Channel
        do {
            channel = try await ClientBootstrap(group: eventLoop)
                .connectTimeout(timeout)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let tls = try deferred
                            ? NIOSSLClientHandler(context: context, serverHostname: serverHostname) { certificates, promise in
                                presented.withLockedValue { $0 = certificates }
                                promise.succeed(.certificateVerified)
                            }
                            : NIOSSLClientHandler(context: context, serverHostname: serverHostname)
                        try channel.pipeline.syncOperations.addHandler(tls)
                        try channel.pipeline.syncOperations.addHandler(
                            NTSKEClientHandler(request: request, isComplete: isCompleteResponse, done: done)
                        )
                    }
                }
                .connect(host: bare, port: port)
                .get()
        } catch {
            done.fail(error)
            throw .connectFailed(host: host, port: port, reason: NTSKEErrorText.connect(error))
        }
        let timer = eventLoop.scheduleTask(in: timeout) {
            done.fail(NTSKEConnectionError.timedOut(seconds: Double(timeout.nanoseconds) / 1e9))
        }
        let response: [UInt8]
        do {
            // A cancelled task ends the wait at once; the later completion of `done`, if any,
            // is ignored by the promise.
            response = try await withTaskCancellationHandler {
                try await done.futureResult.get()
            } onCancel: {
                done.fail(NTSKEConnectionError.cancelled)
            }
        } catch let error as NTSKEConnectionError {
            timer.cancel()
            channel.close(promise: nil)
            throw error
        } catch {
            timer.cancel()
            channel.close(promise: nil)
            throw NTSKEErrorText.tlsFailure(error)
        }
        timer.cancel()
        channel.close(promise: nil)
        guard let secret = secrets.withLockedValue({ $0 }) else { throw .noExporterSecret }
        var validity: CertificateValidity?
        if deferred {
            let verdict = try await DeferredTimeCertificateVerifier.verify(
                presented: presented.withLockedValue { $0 } ?? [], serverHostname: serverHostname,
                serverIP: isIPLiteral ? bare : nil, caFile: caFile)
            if case .validOnlyWithin(let window) = verdict { validity = window }
        }
        return NTSKETranscript(response: response, exporterSecret: secret, certificateValidity: validity)
    }
}

/// Sends the request once TLS is up with the right ALPN, gathers the reply until it is
/// complete, the size cap is hit or the server closes.
private final class NTSKEClientHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let request: [UInt8]
    private let isComplete: @Sendable ([UInt8]) -> Bool
    private let done: EventLoopPromise<[UInt8]>
    private var received: [UInt8] = []

    init(request: [UInt8], isComplete: @escaping @Sendable ([UInt8]) -> Bool, done: EventLoopPromise<[UInt8]>) {
        self.request = request
        self.isComplete = isComplete
        self.done = done
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted(let negotiated) = event {
            guard negotiated == NTSKEClientConnection.alpn else {
                done.fail(NTSKEConnectionError.alpnNotNegotiated(negotiated))
                context.close(promise: nil)
                return
            }
            context.writeAndFlush(NIOAny(context.channel.allocator.buffer(bytes: request)), promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        received += buffer.readBytes(length: buffer.readableBytes) ?? []
        if received.count > NTSKEClientConnection.maximumResponseBytes {
            done.fail(NTSKEConnectionError.responseTooLarge(limit: NTSKEClientConnection.maximumResponseBytes))
            context.close(promise: nil)
        } else if isComplete(received) {
            done.succeed(received)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        done.fail(NTSKEConnectionError.closedBeforeEndOfMessage(received: received.count))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        done.fail(NTSKEErrorText.tlsFailure(error))
        context.close(promise: nil)
    }
}

extension NTSKEClientConnection {
    /// Why a PEM file could not be loaded, in plain words: the file system's answer when it
    /// has one, else the content.
    static func fileProblem(_ path: String, _ error: any Error) -> String {
        var status = stat()
        if stat(path, &status) != 0 { return String(cString: strerror(errno)).lowercased() }
        if status.st_mode & S_IFMT == S_IFDIR { return "it is a directory" }
        if access(path, R_OK) != 0 { return String(cString: strerror(errno)).lowercased() }
        return "not a PEM certificate file (\(error))"
    }
}
