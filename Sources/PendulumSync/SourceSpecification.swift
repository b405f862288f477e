/// One time source as the operator configured it.
public struct SourceSpecification: Sendable, Hashable {
    public enum Mode: String, Sendable, Hashable, Codable {
        case server
        case nts
    }

    public var host: String
    public var port: UInt16
    public var mode: Mode
    /// NTS-KE port and extra trust anchors, for `mode == .nts`.
    public var keyExchangePort: UInt16
    public var caFile: String?

    public init(host: String, port: UInt16 = 123, mode: Mode = .server, keyExchangePort: UInt16 = 4460, caFile: String? = nil) {
        self.host = host
        self.port = port
        self.mode = mode
        self.keyExchangePort = keyExchangePort
        self.caFile = caFile
    }

    /// "host:port" as operators write it, with IPv6 literals bracketed.
    public var displayAddress: String {
        host.contains(":") && !host.hasPrefix("[") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
