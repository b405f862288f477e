import PendulumIO

/// Which clock the daemon steers and where its timestamps come from, decided from the
/// configuration and what the interfaces report (ETHTOOL_GET_TS_INFO), before any socket
/// opens. Hardware timestamps are readings of the NIC's PTP hardware clock (PHC), so a port
/// that takes them must steer that PHC: a system or overlay clock cannot be compared with them.
package struct TimestampingPlan: Sendable, Hashable {
    package enum Clock: Sendable, Hashable {
        case overlay(initialOffsetSeconds: Double, frequencyError: Double)
        case system
        case ptpHardware(path: String)
    }

    package var clock: Clock
    /// Whether the ports switch to hardware timestamps (all of them, or none).
    package var hardwareTimestamps: Bool

    /// What one interface reported.
    package struct Capability: Sendable, Hashable {
        package var hardwareTimestamping: Bool
        package var phcIndex: Int32?

        package init(hardwareTimestamping: Bool, phcIndex: Int32?) {
            self.hardwareTimestamping = hardwareTimestamping
            self.phcIndex = phcIndex
        }
    }

    /// `capability(interface)` is asked only for ports configured for hardware timestamps.
    package init(configuration: PTPDaemonConfiguration, capability: (String) -> Capability) throws(ConfigurationError) {
        let hardwarePorts = configuration.ports.filter { $0.timestamping == .hardware }
        hardwareTimestamps = !hardwarePorts.isEmpty
        var phcPath: String?
        if hardwareTimestamps {
            guard hardwarePorts.count == configuration.ports.count else {
                throw ConfigurationError("all ports or none must use timestamping = \"hardware\" (one clock is steered)")
            }
            var indices: Set<Int32> = []
            for port in hardwarePorts {
                let reported = capability(port.interface)
                guard reported.hardwareTimestamping else {
                    throw ConfigurationError("\(port.interface): the interface has no hardware timestamping (ethtool -T); use timestamping = \"software\"")
                }
                guard let index = reported.phcIndex else {
                    throw ConfigurationError("\(port.interface): hardware timestamping without a PTP hardware clock; use timestamping = \"software\"")
                }
                indices.insert(index)
            }
            guard indices.count == 1, let index = indices.first else {
                throw ConfigurationError("the ports' interfaces have different PTP hardware clocks \(indices.sorted().map { "/dev/ptp\($0)" }); one instance steers one clock")
            }
            phcPath = "/dev/ptp\(index)"
        }
        switch configuration.clock {
        case .overlay(let offset, let frequencyError):
            guard phcPath == nil else { throw Self.mismatch(phcPath) }
            clock = .overlay(initialOffsetSeconds: offset, frequencyError: frequencyError)
        case .system:
            guard phcPath == nil else { throw Self.mismatch(phcPath) }
            clock = .system
        case .ptpHardware(let path?):
            if let phcPath, phcPath != path {
                throw ConfigurationError("[clock] path \"\(path)\" is not the interfaces' PTP hardware clock \(phcPath)")
            }
            clock = .ptpHardware(path: path)
        case .ptpHardware(nil):
            guard let phcPath else {
                throw ConfigurationError("[clock] kind \"phc\" needs path, or ports with timestamping = \"hardware\" (their PHC is used)")
            }
            clock = .ptpHardware(path: phcPath)
        }
    }

    private static func mismatch(_ phcPath: String?) -> ConfigurationError {
        ConfigurationError("hardware timestamps are readings of \(phcPath ?? "the PHC"), so that clock is steered: "
            + "set [clock] kind = \"phc\" (path optional)")
    }

    /// Whether timestamps and steered clock are on UTC (system, overlay) rather than TAI (PHC).
    package var clockIsUTC: Bool {
        if case .ptpHardware = clock { return false }
        return true
    }
}
