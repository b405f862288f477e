/// The daemon's state as `pendulum status --json` shows it (DESIGN.md, "Contracts").
package struct ObservationSnapshot: Codable, Sendable {
    package struct System: Codable, Sendable {
        package var synchronized: Bool
        package var stratum: UInt8
        package var referenceID: String
        package var leap: UInt8
        package var offsetSeconds: Double
        package var uncertaintySeconds: Double
        package var rootDelaySeconds: Double
        package var rootDispersionSeconds: Double
        package var frequencyPPM: Double

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

    package struct Clock: Codable, Sendable {
        package var kind: String
        package var offsetFromSystemSeconds: Double?
        package var frequencyPPM: Double

        enum CodingKeys: String, CodingKey {
            case kind
            case offsetFromSystemSeconds = "offset_from_system_seconds"
            case frequencyPPM = "frequency_ppm"
        }
    }

    package struct Source: Codable, Sendable {
        package var name: String
        package var address: String?
        package var mode: String
        package var reachable: Bool
        package var reach: UInt8
        package var offsetSeconds: Double?
        package var delaySeconds: Double?
        package var uncertaintySeconds: Double?
        package var poll: Int?
        package var stratum: UInt8?
        package var nts: Bool
        package var cookies: Int?
        package var selected: Bool
        package var falseticker: Bool
        package var lastError: String?
        /// For a server taken from a pool: the pool's name.
        package var pool: String?

        enum CodingKeys: String, CodingKey {
            case name, address, mode, reachable, reach, poll, stratum, nts, cookies, selected, falseticker, pool
            case offsetSeconds = "offset_seconds"
            case delaySeconds = "delay_seconds"
            case uncertaintySeconds = "uncertainty_seconds"
            case lastError = "last_error"
        }
    }

    /// Per listen address counters of an NTP server running in the same daemon.
    package struct Server: Codable, Sendable {
        package var listen: String
        package var counters: [String: Int]

        package init(listen: String, counters: [String: Int]) {
            self.listen = listen
            self.counters = counters
        }
    }

    package var system: System
    package var clock: Clock
    package var sources: [Source]
    package var servers: [Server]
    /// NTS-KE listeners of the same daemon, their connection counters by class (accepted,
    /// answered, refused_over_limit, shed, ...); absent where none runs.
    package var keyExchangeServers: [Server]? = nil
    /// pendulum-ptpd's PTP state (ObservationSnapshot+PTP.swift); absent for NTP.
    package var ptp: PTP? = nil

    enum CodingKeys: String, CodingKey {
        case system, clock, sources, servers, ptp
        case keyExchangeServers = "nts_ke_servers"
    }
}
