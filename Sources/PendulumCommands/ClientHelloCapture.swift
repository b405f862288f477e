import NIOCore
import NIOEmbedded
import NIOSSL

/// The bytes a TLS 1.3 NTS-KE client sends first: a ClientHello offering ALPN "ntske/1".
/// Taken from swift-nio-ssl itself on an in-memory channel, so the flood's half-finished
/// handshakes are ones a server has to do real work for (key share, signature).
enum ClientHelloCapture {
    static func ntskeClientHello() throws -> [UInt8] {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv13
        configuration.applicationProtocols = ["ntske/1"]
        configuration.certificateVerification = .none
        let context = try NIOSSLContext(configuration: configuration)
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish() }
        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 4460)).wait()
        var bytes: [UInt8] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { bytes += buffer.readableBytesView }
        return bytes
    }
}
