import Foundation
import PendulumSync
import Testing

/// pendulum-ptpd's observation socket (`pendulum status`) and Prometheus endpoint, on a
/// master-only daemon alone on a veth in a namespace (it reaches MASTER without a peer).
@Suite("pendulum-ptpd status and metrics", .serialized)
struct PTPDaemonObservationTests {
    @Test func statusSocketAndMetricsShowThePTPState() throws {
        NetworkNamespacePair.removeStale()
        let namespaces = try NetworkNamespacePair()
        defer { namespaces.remove() }
        let directory = try TestPaths.temporaryDirectory("ptpd-observe")
        defer { try? FileManager.default.removeItem(at: directory) }
        let socket = directory.appendingPathComponent("observe").path
        let configuration = directory.appendingPathComponent("ptpd.toml")
        try """
            domain = 3
            master-only = true
            [clock]
            kind = "overlay"
            [[port]]
            interface = "\(namespaces.interfaces.0)"
            network = "ipv6"
            delay-mechanism = "p2p"
            log-announce-interval = 0
            [observability]
            observation-path = "\(socket)"
            metrics-listen = "127.0.0.1:9975"
            """.write(to: configuration, atomically: true, encoding: .utf8)
        let daemon = namespaces.process(inFirst: true, TestPaths.pendulumPTPD, ["--config", configuration.path])
        try daemon.start()
        defer { daemon.stop() }

        // Announce interval 1 s, receipt timeout 3: MASTER after a few seconds.
        var ptp: ObservationSnapshot.PTP?
        let start = Date()
        while Date().timeIntervalSince(start) < 20 && daemon.process.isRunning {
            usleep(250_000)
            ptp = PTPObservation.ptp(socket)
            if ptp?.ports.first?.state == "MASTER" { break }
        }
        let state = try #require(ptp, "no status on \(socket): \(daemon.standardOutput)\(daemon.standardError)")
        #expect(state.ports.first?.state == "MASTER", "\(daemon.standardOutput)")
        #expect(state.ports.first?.interface == namespaces.interfaces.0)
        #expect(state.ports.first?.network == "ipv6")
        #expect(state.ports.first?.delayMechanism == "p2p")
        #expect(state.domain == 3)
        // As grandmaster it is its own parent.
        #expect(state.grandmasterIdentity == state.clockIdentity)
        #expect(state.offsetFromMasterSeconds == nil)

        let table = try ChildProcess.run(TestPaths.pendulum, ["status", "--socket", socket], timeout: 10)
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.contains("grandmaster      \(state.clockIdentity)"), "\(table.stdout)")
        #expect(table.stdout.contains(namespaces.interfaces.0) && table.stdout.contains("MASTER"), "\(table.stdout)")
        let json = try ChildProcess.run(TestPaths.pendulum, ["status", "--socket", socket, "--json"], timeout: 10)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let section = try #require(object["ptp"] as? [String: Any], "\(json.stdout)")
        let ports = try #require(section["ports"] as? [[String: Any]])
        #expect(ports.first?["state"] as? String == "MASTER")
        #expect(ports.first?["interface"] as? String == namespaces.interfaces.0)
        #expect(section["grandmaster_identity"] as? String == state.clockIdentity)
        #expect(section["counters"] is [String: Any])
        #expect(object["clock"] is [String: Any] && object["system"] is [String: Any])

        // The metrics listen on the namespace's loopback: scrape from inside it with a raw
        // HTTP GET (bash's /dev/tcp, no client program needed).
        let scrape = try ChildProcess.run("/usr/sbin/ip", ["netns", "exec", namespaces.names.0, "/bin/bash", "-c",
            "exec 3<>/dev/tcp/127.0.0.1/9975 && printf 'GET /metrics HTTP/1.0\\r\\n\\r\\n' >&3 && cat <&3"], timeout: 10)
        #expect(scrape.stdout.hasPrefix("HTTP/1.0 200 OK"), "\(scrape.stdout)\(scrape.stderr)")
        #expect(scrape.stdout.contains("pendulum_ptp_port_state{interface=\"\(namespaces.interfaces.0)\",port=\"1\"} 6"), "\(scrape.stdout)")
        #expect(scrape.stdout.contains("# TYPE pendulum_ptp_frequency_ppb gauge"), "\(scrape.stdout)")
        #expect(scrape.stdout.contains("pendulum_ptp_messages{class=\"malformed\"} 0"), "\(scrape.stdout)")

        daemon.stop()
        #expect(daemon.process.terminationStatus == 0, "\(daemon.standardError)")
        // The socket goes with the daemon.
        #expect(!FileManager.default.fileExists(atPath: socket))
    }

    /// A veth has no hardware timestamps (ETHTOOL_GET_TS_INFO says so): asking for them is a
    /// clear start-up error, never a silent fallback to software.
    @Test func hardwareTimestampingOnAVethIsRefusedClearly() throws {
        let namespaces = try NetworkNamespacePair()
        defer { namespaces.remove() }
        let directory = try TestPaths.temporaryDirectory("ptpd-hardware")
        defer { try? FileManager.default.removeItem(at: directory) }
        let configuration = directory.appendingPathComponent("ptpd.toml")
        try """
            slave-only = true
            [clock]
            kind = "phc"
            [[port]]
            interface = "\(namespaces.interfaces.1)"
            timestamping = "hardware"
            """.write(to: configuration, atomically: true, encoding: .utf8)
        let daemon = namespaces.process(inFirst: false, TestPaths.pendulumPTPD, ["--config", configuration.path])
        try daemon.start()
        let status = daemon.wait(timeout: 10)
        #expect(status == 1)
        #expect(daemon.standardError.contains("\(namespaces.interfaces.1): the interface has no hardware timestamping"), "\(daemon.standardError)")
    }
}
