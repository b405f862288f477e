import Foundation
import PendulumCommands
import PendulumSync
import Testing

/// The `ptp` section of the status contract, as JSON, as metrics and as `pendulum status` shows it.
@Suite("pendulum-ptpd observation snapshot")
struct PTPObservationSnapshotTests {
    static func slaveSnapshot() -> ObservationSnapshot {
        let ptp = ObservationSnapshot.PTP(
            clockIdentity: "0200.00ff.fe00.0002", domain: 0,
            ports: [.init(portNumber: 1, interface: "veth1", network: "ipv4", delayMechanism: "e2e", state: "SLAVE",
                          stateCode: 9, timestamping: "software")],
            offsetFromMasterSeconds: -1.25e-6, meanPathDelaySeconds: 2.5e-5,
            grandmasterIdentity: "0200.00ff.fe00.0001", parentPortIdentity: "0200.00ff.fe00.0001-1", stepsRemoved: 1,
            offsetSamples: 42, frequencyPPB: -1200,
            counters: .init(received: 100, malformed: 2, wrongDomain: 3, ownMessages: 4, impossibleTimestamps: 5,
                            ignored: 6, missingTransmitTimestamps: 7, sendErrors: 8))
        return .ptpDaemon(ptp, leap: 0, clockKind: "overlay", clockOffsetFromSystemSeconds: 3e-7, frequencyPPM: -1.2)
    }

    @Test func jsonHasTheContractKeys() throws {
        let data = try JSONEncoder().encode(Self.slaveSnapshot())
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let ptp = try #require(object["ptp"] as? [String: Any])
        let ports = try #require(ptp["ports"] as? [[String: Any]])
        #expect(ports.first?["interface"] as? String == "veth1")
        #expect(ports.first?["state"] as? String == "SLAVE")
        #expect(ptp["offset_from_master_seconds"] as? Double == -1.25e-6)
        #expect(ptp["mean_path_delay_seconds"] as? Double == 2.5e-5)
        #expect(ptp["grandmaster_identity"] as? String == "0200.00ff.fe00.0001")
        let counters = try #require(ptp["counters"] as? [String: Any])
        #expect(counters["impossible_timestamps"] as? Int == 5)
        let system = try #require(object["system"] as? [String: Any])
        #expect(system["synchronized"] as? Bool == true)
        #expect(system["reference_id"] as? String == "50545000")  // "PTP"
        let clock = try #require(object["clock"] as? [String: Any])
        #expect(clock["offset_from_system_seconds"] as? Double == 3e-7)
        // An NTP daemon's document has no ptp section and still decodes.
        let decoded = try JSONDecoder().decode(ObservationSnapshot.self, from: data)
        #expect(decoded.ptp?.ports.first?.stateCode == 9)
        var withoutPTP = decoded
        withoutPTP.ptp = nil
        let ntpShaped = try JSONEncoder().encode(withoutPTP)
        #expect(!String(decoding: ntpShaped, as: UTF8.self).contains("\"ptp\""))
        #expect(try JSONDecoder().decode(ObservationSnapshot.self, from: ntpShaped).ptp == nil)
    }

    @Test func unsynchronisedUnlessAPortIsSlave() {
        var snapshot = Self.slaveSnapshot()
        var ptp = snapshot.ptp
        ptp?.ports[0].state = "LISTENING"
        ptp?.ports[0].stateCode = 4
        if let ptp { snapshot = .ptpDaemon(ptp, leap: 1, clockKind: "overlay", clockOffsetFromSystemSeconds: nil, frequencyPPM: 0) }
        #expect(!snapshot.system.synchronized)
        #expect(snapshot.system.leap == 3)
        #expect(snapshot.system.stratum == 16)
    }

    @Test func metricsCarryThePTPGauges() throws {
        let endpoint = try MetricsEndpoint(host: "127.0.0.1", port: 0) { Self.slaveSnapshot() }
        let body = endpoint.render()
        #expect(body.contains("pendulum_ptp_offset_from_master_seconds -1.25e-06"), "\(body)")
        #expect(body.contains("pendulum_ptp_mean_path_delay_seconds 2.5e-05"), "\(body)")
        #expect(body.contains(#"pendulum_ptp_port_state{interface="veth1",port="1"} 9"#), "\(body)")
        #expect(body.contains("pendulum_ptp_frequency_ppb -1200"), "\(body)")
        #expect(body.contains(#"pendulum_ptp_messages{class="impossible_timestamps"} 5"#), "\(body)")
        #expect(body.contains(#"pendulum_ptp_messages{class="own_messages"} 4"#), "\(body)")
        endpoint.stop()
    }

    @Test func statusTableHasAPTPBlock() {
        let text = StatusTableProbe.render(Self.slaveSnapshot())
        #expect(text.contains("grandmaster      0200.00ff.fe00.0001"), "\(text)")
        #expect(text.contains("offset from master -1.250 µs, mean path delay 25.000 µs, 42 samples"), "\(text)")
        #expect(text.contains("* 1     veth1"), "\(text)")
        #expect(text.contains("SLAVE"))
        #expect(text.contains("2 malformed, 3 wrong domain, 4 own, 5 impossible timestamps"), "\(text)")
    }
}
