import PendulumIO
import PendulumNTPServer

/// Everything `pendulum-ntpd` reads from its TOML file, validated. Parsing lives in
/// `DaemonConfigurationParser`; `pendulum validate` and the daemon share it.
public struct DaemonConfiguration: Sendable {
    public var servers: [NTPServerSection] = []
    public var ntsKEServers: [NTSKEServerSection] = []
    public var keyset: KeysetSection?
    public var synchronization = SynchronizationSection()

    public init() {}

    /// Makes relative file paths relative to `directory` (the configuration file's).
    public mutating func resolveRelativePaths(against directory: String) {
        func resolved(_ path: String) -> String {
            guard !path.hasPrefix("/"), directory != "." else { return path }
            return directory.hasSuffix("/") ? directory + path : directory + "/" + path
        }
        for index in ntsKEServers.indices {
            ntsKEServers[index].certificateChainPath = resolved(ntsKEServers[index].certificateChainPath)
            ntsKEServers[index].privateKeyPath = resolved(ntsKEServers[index].privateKeyPath)
        }
        if let path = keyset?.keyStoragePath { keyset?.keyStoragePath = resolved(path) }
    }
}

/// One `[[server]]`: an NTP listener and its policy.
public struct NTPServerSection: Sendable {
    public var listen: SocketAddress
    public var allow: [AddressPrefix] = []
    public var deny: [AddressPrefix] = []
    public var denyAction: AccessPolicy.RefusalAction = .kiss
    /// nil: not rate limited.
    public var rateLimit: RateLimiter.Configuration? = RateLimiter.Configuration()
    public var requireNTS = false
    /// Serving threads (each with its own SO_REUSEPORT socket); nil: one per online core.
    public var workers: Int?

    public init(listen: SocketAddress) {
        self.listen = listen
    }

    public var coreConfiguration: NTPServerCore.Configuration {
        NTPServerCore.Configuration(access: AccessPolicy(allow: allow, deny: deny, refusal: denyAction), rateLimit: rateLimit, requireNTS: requireNTS)
    }
}

/// One `[[nts-ke-server]]`.
public struct NTSKEServerSection: Sendable {
    public var listen: SocketAddress
    public var certificateChainPath: String
    public var privateKeyPath: String
    /// Sent as a Port record when set.
    public var ntpPort: UInt16?
    /// Sent as a Server record when set.
    public var ntpServer: String?
    public var timeoutSeconds: Int64 = 5
    public var maximumConnections = 512
}

/// `[keyset]`: where the NTS cookie master keys live and how they age.
public struct KeysetSection: Sendable {
    public var keyStoragePath: String
    public var rotationPeriodSeconds: Int64 = 86_400
    public var staleKeyCount = 7
}

/// `[synchronization]`.
public struct SynchronizationSection: Sendable {
    /// With no sources, serve the system clock as synchronised at this stratum (refid LOCL);
    /// nil: the server says it is unsynchronised.
    public var localStratum: UInt8?

    public init() {}
}
