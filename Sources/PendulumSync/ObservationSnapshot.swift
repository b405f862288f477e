/// The daemon's state as `pendulum status --json` shows it (DESIGN.md, "Contracts").
public struct ObservationSnapshot: Codable, Sendable {
    public struct System: Codable, Sendable {
        public var synchronized: Bool
        public var stratum: UInt8
        public var referenceID: String
        public var leap: UInt8
        public var offsetSeconds: Double
        public var uncertaintySeconds: Double
        public var rootDelaySeconds: Double
        public var rootDispersionSeconds: Double
        public var frequencyPPM: Double

        enum CodingKeys: String, CodingKey {
            case synchronized, stratum, leap
            case referenceID = "reference_id"
            case offsetSeconds = "offset_seconds"
            case uncertaintySeconds = "uncertainty_seconds"
            case rootDelaySeconds = "root_delay_seconds"
            case rootDispersionSeconds = "root_dispersion_seconds"
            case frequencyPPM = "frequency_ppm"
        }
    }

    public struct Clock: Codable, Sendable {
        public var kind: String
        public var offsetFromSystemSeconds: Double?
        public var frequencyPPM: Double

        enum CodingKeys: String, CodingKey {
            case kind
            case offsetFromSystemSeconds = "offset_from_system_seconds"
            case frequencyPPM = "frequency_ppm"
        }
    }

    public struct Source: Codable, Sendable {
        public var name: String
        public var address: String?
        public var mode: String
        public var reachable: Bool
        public var reach: UInt8
        public var offsetSeconds: Double?
        public var delaySeconds: Double?
        public var uncertaintySeconds: Double?
        public var poll: Int?
        public var stratum: UInt8?
        public var nts: Bool
        public var cookies: Int?
        public var selected: Bool
        public var falseticker: Bool
        public var lastError: String?
        /// For a server taken from a pool: the pool's name.
        public var pool: String?

        enum CodingKeys: String, CodingKey {
            case name, address, mode, reachable, reach, poll, stratum, nts, cookies, selected, falseticker, pool
            case offsetSeconds = "offset_seconds"
            case delaySeconds = "delay_seconds"
            case uncertaintySeconds = "uncertainty_seconds"
            case lastError = "last_error"
        }
    }

    /// Per listen address counters of an NTP server running in the same daemon.
    public struct Server: Codable, Sendable {
        public var listen: String
        public var counters: [String: Int]

        public init(listen: String, counters: [String: Int]) {
            self.listen = listen
            self.counters = counters
        }
    }

    public var system: System
    public var clock: Clock
    public var sources: [Source]
    public var servers: [Server]
    /// NTS-KE listeners of the same daemon, their connection counters by class (accepted,
    /// answered, refused_over_limit, shed, ...); absent where none runs.
    public var keyExchangeServers: [Server]? = nil
    /// pendulum-ptpd's PTP state (ObservationSnapshot+PTP.swift); absent for NTP.
    public var ptp: PTP? = nil

    enum CodingKeys: String, CodingKey {
        case system, clock, sources, servers, ptp
        case keyExchangeServers = "nts_ke_servers"
    }
}
