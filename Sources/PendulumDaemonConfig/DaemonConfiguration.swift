import PendulumIO
import PendulumNTPServer
import PendulumNTS

/// Everything `pendulum-ntpd` reads from its TOML file, validated. Parsing lives in
/// `DaemonConfigurationParser`; `pendulum validate` and the daemon share it.
public struct DaemonConfiguration: Sendable {
    public var servers: [NTPServerSection] = []
    public var ntsKEServers: [NTSKEServerSection] = []
    public var keyset: KeysetSection?
    public var synchronization = SynchronizationSection()
    public var sources: [SourceSection] = []
    public var clock = ClockSection()
    public var observability = ObservabilitySection()

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
        for index in sources.indices {
            if let path = sources[index].caFile { sources[index].caFile = resolved(path) }
        }
        if let path = observability.observationPath { observability.observationPath = resolved(path) }
        if let path = observability.boundsPath { observability.boundsPath = resolved(path) }
    }

    /// Sources that must agree before the clock is steered: the configured value, or by
    /// default three, or all of them when fewer are configured (so one or two still work).
    public var effectiveMinimumAgreeingSources: Int {
        synchronization.minimumAgreeingSources ?? max(1, min(3, associationCount))
    }

    /// How many servers the sources stand for (a pool counts as its `count`).
    public var associationCount: Int { sources.reduce(0) { $0 + $1.associationCount } }

    /// Problems that do not stop the daemon but that the operator should hear about.
    public var warnings: [String] {
        var result: [String] = []
        if !sources.isEmpty && associationCount < 3 {
            result.append("only \(associationCount) time source\(associationCount == 1 ? "" : "s") configured: with fewer than three, a wrong source cannot be outvoted")
        }
        if sources.isEmpty && synchronization.localStratum == nil && !servers.isEmpty {
            result.append("no [[source]] and no local-stratum: the server will answer as unsynchronised (stratum 16)")
        }
        if clock.kind == .system && (clock.initialOffsetSeconds != 0 || clock.initialFrequencyPPM != 0) {
            result.append("[clock] initial-offset-seconds and initial-frequency-ppm apply to an overlay clock only and are ignored")
        }
        return result
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
    /// Serve leap seconds spread over a window instead of as a 61- or 59-second minute;
    /// nil: serve UTC as it is, leap seconds announced.
    public var leapSmear: LeapSmear?

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
    /// Held at once; a new connection beyond this sheds the longest-stalled one.
    public var maximumConnections = 512
    public var maximumConnectionsPerAddress = 8
    /// Per IPv4 /24 or IPv6 /48.
    public var maximumConnectionsPerNetwork = 64
    /// New connections per network: on average one per this interval (0: no limit), after a
    /// burst of `rateLimitBurst`.
    public var rateLimitIntervalMilliseconds: Int64 = 125
    public var rateLimitBurst = 32
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
    /// nil: `DaemonConfiguration.effectiveMinimumAgreeingSources`.
    public var minimumAgreeingSources: Int?
    /// Offsets beyond this are stepped after the first synchronisation, smaller ones slewed;
    /// nil: the discipline's default (0.128 s).
    public var stepThresholdSeconds: Double?
    /// Offsets beyond this are not applied after the first synchronisation (the operator is
    /// told); nil: the discipline's default (1000 s).
    public var panicThresholdSeconds: Double?
    /// At the first synchronisation: step offsets beyond this (default 1 ms) …
    public var startupStepThresholdSeconds: Double?
    /// … and refuse offsets beyond this (default: accept any, as a fresh boot needs).
    public var startupPanicThresholdSeconds: Double?
    /// How NTS-KE judges certificate validity before the first synchronisation.
    public var certificateTimeCheck: CertificateTimePolicy = .afterAgreement

    public init() {}
}
