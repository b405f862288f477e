/// A server to ask for the time: with Network Time Security (the default an app should use)
/// or, only if asked, plain unauthenticated NTP.
public struct TimeServer: Sendable, Hashable, CustomStringConvertible {
    public enum Security: Sendable, Hashable {
        /// NTS-KE on `keyExchangePort` (TLS 1.3), then NTS-protected NTP. `caFile`: PEM
        /// certificates to trust besides the system's.
        case nts(keyExchangePort: UInt16, caFile: String?)
        /// Plain NTP: anyone on the path can change the answer.
        case unauthenticated
    }

    public var host: String
    /// The NTP port. With NTS, nil means the one the NTS-KE server names (else 123).
    public var port: UInt16?
    public var security: Security

    public init(host: String, port: UInt16? = nil, security: Security) {
        self.host = host
        self.port = port
        self.security = security
    }

    /// An NTS server (NTS-KE port 4460 unless given).
    public static func nts(_ host: String, keyExchangePort: UInt16 = 4460, port: UInt16? = nil, caFile: String? = nil) -> TimeServer {
        TimeServer(host: host, port: port, security: .nts(keyExchangePort: keyExchangePort, caFile: caFile))
    }

    /// A plain NTP server (port 123 unless given).
    public static func unauthenticated(_ host: String, port: UInt16 = 123) -> TimeServer {
        TimeServer(host: host, port: port, security: .unauthenticated)
    }

    public var isAuthenticated: Bool {
        if case .nts = security { return true }
        return false
    }

    public var description: String {
        switch security {
        case .nts(let keyExchangePort, _): "nts://\(host):\(keyExchangePort)"
        case .unauthenticated: "ntp://\(host):\(port ?? 123)"
        }
    }
}
