import PendulumDiscipline

/// One time source as the operator configured it.
public struct SourceSpecification: Sendable, Hashable {
    public enum Mode: String, Sendable, Hashable, Codable {
        case server
        case nts
        /// A DNS name standing for many servers: the engine keeps `poolCount` of its addresses
        /// in use as plain servers and replaces bad ones.
        case pool
    }

    public var host: String
    public var port: UInt16
    public var mode: Mode
    /// NTS-KE port and extra trust anchors, for `mode == .nts`.
    public var keyExchangePort: UInt16
    public var caFile: String?
    /// For `mode == .pool`: how many of its servers to use at once.
    public var poolCount: Int
    /// For a server the engine took from a pool: the pool's name, for status.
    public var poolName: String?
    /// minpoll/maxpoll/iburst for this source (a pool's members inherit the pool's); nil: the
    /// discipline's defaults.
    public var polling: PollSettings?

    public init(
        host: String, port: UInt16 = 123, mode: Mode = .server, keyExchangePort: UInt16 = 4460, caFile: String? = nil,
        poolCount: Int = 4, poolName: String? = nil, polling: PollSettings? = nil
    ) {
        self.polling = polling
        self.host = host
        self.port = port
        self.mode = mode
        self.keyExchangePort = keyExchangePort
        self.caFile = caFile
        self.poolCount = poolCount
        self.poolName = poolName
    }

    /// "host:port" as operators write it, with IPv6 literals bracketed. For NTS the port is the
    /// NTS-KE port: that is the server's address as configured (the NTP port comes from it).
    public var displayAddress: String {
        let shownPort = mode == .nts ? keyExchangePort : port
        return host.contains(":") && !host.hasPrefix("[") ? "[\(host)]:\(shownPort)" : "\(host):\(shownPort)"
    }
}
