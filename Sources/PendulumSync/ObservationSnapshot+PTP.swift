import PendulumNTP

/// The `ptp` section of the status contract (DESIGN.md): what pendulum-ptpd reports on its
/// observation socket, next to the `system` and `clock` sections every daemon fills.
extension ObservationSnapshot {
    package struct PTP: Codable, Sendable {
        package struct Port: Codable, Sendable {
            package var portNumber: UInt16
            package var interface: String
            /// "ipv4", "ipv6" or "ethernet".
            package var network: String
            /// "e2e" or "p2p".
            package var delayMechanism: String
            /// The standard's name, e.g. "SLAVE".
            package var state: String
            /// IEEE 1588 portState enumeration value (SLAVE = 9), for metrics.
            package var stateCode: UInt8
            package var timestamping: String

            package init(portNumber: UInt16, interface: String, network: String, delayMechanism: String, state: String,
                        stateCode: UInt8, timestamping: String) {
                self.portNumber = portNumber
                self.interface = interface
                self.network = network
                self.delayMechanism = delayMechanism
                self.state = state
                self.stateCode = stateCode
                self.timestamping = timestamping
            }

            enum CodingKeys: String, CodingKey {
                case interface, network, state, timestamping
                case portNumber = "port_number"
                case delayMechanism = "delay_mechanism"
                case stateCode = "state_code"
            }
        }

        /// Received messages, and those ignored by reason (each is also counted in `received`).
        package struct Counters: Codable, Sendable, Equatable {
            package var received: Int
            package var malformed: Int
            package var wrongDomain: Int
            package var ownMessages: Int
            package var impossibleTimestamps: Int
            package var ignored: Int
            package var missingTransmitTimestamps: Int
            package var sendErrors: Int

            package init(received: Int, malformed: Int, wrongDomain: Int, ownMessages: Int, impossibleTimestamps: Int,
                        ignored: Int, missingTransmitTimestamps: Int, sendErrors: Int) {
                self.received = received
                self.malformed = malformed
                self.wrongDomain = wrongDomain
                self.ownMessages = ownMessages
                self.impossibleTimestamps = impossibleTimestamps
                self.ignored = ignored
                self.missingTransmitTimestamps = missingTransmitTimestamps
                self.sendErrors = sendErrors
            }

            enum CodingKeys: String, CodingKey {
                case received, malformed, ignored
                case wrongDomain = "wrong_domain"
                case ownMessages = "own_messages"
                case impossibleTimestamps = "impossible_timestamps"
                case missingTransmitTimestamps = "missing_transmit_timestamps"
                case sendErrors = "send_errors"
            }
        }

        package var clockIdentity: String
        package var domain: UInt8
        package var ports: [Port]
        /// The latest measurement, while a port is UNCALIBRATED or SLAVE.
        package var offsetFromMasterSeconds: Double?
        package var meanPathDelaySeconds: Double?
        package var grandmasterIdentity: String
        package var parentPortIdentity: String
        package var stepsRemoved: UInt16
        /// How many offsets were measured since start: lets a reader tell a new sample from an old one.
        package var offsetSamples: Int
        package var frequencyPPB: Double
        package var counters: Counters

        package init(clockIdentity: String, domain: UInt8, ports: [Port], offsetFromMasterSeconds: Double?,
                    meanPathDelaySeconds: Double?, grandmasterIdentity: String, parentPortIdentity: String,
                    stepsRemoved: UInt16, offsetSamples: Int, frequencyPPB: Double, counters: Counters) {
            self.clockIdentity = clockIdentity
            self.domain = domain
            self.ports = ports
            self.offsetFromMasterSeconds = offsetFromMasterSeconds
            self.meanPathDelaySeconds = meanPathDelaySeconds
            self.grandmasterIdentity = grandmasterIdentity
            self.parentPortIdentity = parentPortIdentity
            self.stepsRemoved = stepsRemoved
            self.offsetSamples = offsetSamples
            self.frequencyPPB = frequencyPPB
            self.counters = counters
        }

        enum CodingKeys: String, CodingKey {
            case domain, ports, counters
            case clockIdentity = "clock_identity"
            case offsetFromMasterSeconds = "offset_from_master_seconds"
            case meanPathDelaySeconds = "mean_path_delay_seconds"
            case grandmasterIdentity = "grandmaster_identity"
            case parentPortIdentity = "parent_port_identity"
            case stepsRemoved = "steps_removed"
            case offsetSamples = "offset_samples"
            case frequencyPPB = "frequency_ppb"
        }
    }

    /// pendulum-ptpd's snapshot. The NTP-shaped `system` section says what a PTP client can:
    /// synchronised while a port is SLAVE, reference "PTP", stratum 1 then (16 otherwise),
    /// the latest offset from the master, no root delay or dispersion.
    package static func ptpDaemon(_ ptp: PTP, leap: UInt8, clockKind: String, clockOffsetFromSystemSeconds: Double?,
                                 frequencyPPM: Double) -> ObservationSnapshot {
        let synchronized = ptp.ports.contains { $0.state == "SLAVE" }
        let system = System(
            synchronized: synchronized, stratum: synchronized ? 1 : 16, referenceID: ReferenceID(ascii: "PTP").hex, leap: synchronized ? leap : 3,
            offsetSeconds: ptp.offsetFromMasterSeconds ?? 0, uncertaintySeconds: 0, rootDelaySeconds: 0,
            rootDispersionSeconds: 0, frequencyPPM: frequencyPPM)
        let clock = Clock(kind: clockKind, offsetFromSystemSeconds: clockOffsetFromSystemSeconds, frequencyPPM: frequencyPPM)
        return ObservationSnapshot(system: system, clock: clock, sources: [], servers: [], ptp: ptp)
    }
}
