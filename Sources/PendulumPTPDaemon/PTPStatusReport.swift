import Foundation
import PendulumPTP

/// The `ptp` section of the status contract, written as JSON for `pendulum status` and tests.
struct PTPStatusReport: Encodable {
    struct Port: Encodable {
        var port_number: UInt16
        var interface: String
        var network: String
        var delay_mechanism: String
        /// The standard's name, e.g. "SLAVE".
        var state: String
    }

    struct Clock: Encodable {
        var kind: String
        var frequency_ppm: Double
        /// Overlay clocks only: how far ahead of the system clock (the truth on one machine).
        var offset_from_system_seconds: Double?
    }

    struct Counters: Encodable {
        var received: Int
        var malformed: Int
        var wrong_domain: Int
        var own_messages: Int
        var impossible_timestamps: Int
        var ignored: Int
        var missing_transmit_timestamps: Int
        var send_errors: Int
    }

    struct PTP: Encodable {
        var clock_identity: String
        var domain: UInt8
        var ports: [Port]
        var offset_from_master_seconds: Double?
        var mean_path_delay_seconds: Double?
        var grandmaster_identity: String
        var parent_port_identity: String
        var steps_removed: UInt16
        var offset_samples: Int
        var clock: Clock
        var counters: Counters
    }

    var ptp: PTP

    func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(self)
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url, options: .atomic)
    }
}
