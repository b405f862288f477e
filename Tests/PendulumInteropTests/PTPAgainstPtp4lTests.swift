import Foundation
import Testing

/// pendulum-ptpd against linuxptp's ptp4l across a veth pair between two network namespaces,
/// software timestamps. ptp4l never steers a clock (`free_running 1`); pendulum-ptpd steers an
/// overlay clock. Runs as root (CI); each test creates and deletes its own namespaces.
@Suite("pendulum-ptpd against ptp4l", .serialized)
struct PTPAgainstPtp4lTests {
    /// Seconds each slave run lasts, and the final part over which the offset RMS is judged.
    static let slaveRunSeconds = 60.0
    static let judgedSeconds = 30.0

    struct Sample {
        var time: Double
        var offset: Double
        /// The overlay clock minus the system clock, which ptp4l's free-running master also
        /// reads: the true error on one machine.
        var trueError: Double?
        var state: String
    }

    static func ptp4lFlags(network: String, delayMechanism: String) -> [String] {
        let transport = ["ipv4": "-4", "ipv6": "-6", "ethernet": "-2"][network] ?? "-4"
        return [transport, delayMechanism == "p2p" ? "-P" : "-E"]
    }

    static func writePtp4lConfiguration(in directory: URL, extra: String = "") throws -> (config: String, uds: String) {
        let uds = directory.appendingPathComponent("ptp4l.sock").path
        let config = directory.appendingPathComponent("ptp4l.cfg")
        // free_running: ptp4l must never steer the machine's clock, as master or slave.
        try """
            [global]
            free_running 1
            uds_address \(uds)
            logging_level 6
            \(extra)
            """.write(to: config, atomically: true, encoding: .utf8)
        return (config.path, uds)
    }

    static func readStatus(_ path: String) -> [String: Any]? {
        guard let data = FileManager.default.contents(atPath: path),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        return object["ptp"] as? [String: Any]
    }

    @Test(arguments: [("ipv4", "e2e"), ("ipv4", "p2p"), ("ipv6", "e2e"), ("ipv6", "p2p"), ("ethernet", "e2e"), ("ethernet", "p2p")])
    func ptp4lMasterDisciplinesOurSlave(network: String, delayMechanism: String) throws {
        let ptp4l = try TestPaths.requireProgram("ptp4l", package: "linuxptp")
        let namespaces = try NetworkNamespacePair()
        defer { namespaces.remove() }
        let directory = try TestPaths.temporaryDirectory("ptpd-slave")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (ptp4lConfig, _) = try Self.writePtp4lConfiguration(in: directory)
        let statusPath = directory.appendingPathComponent("observe.json").path
        let ourConfig = directory.appendingPathComponent("ptpd.toml")
        // The minimal slave configuration of issue 7, on our interface; the overlay clock starts 10 ms wrong.
        try """
            domain = 0
            slave-only = true
            [clock]
            kind = "overlay"
            initial-offset-seconds = 0.01
            [[port]]
            interface = "\(namespaces.interfaces.1)"
            network = "\(network)"
            delay-mechanism = "\(delayMechanism)"
            timestamping = "software"
            [observability]
            observation-path = "\(directory.appendingPathComponent("observe").path)"
            """.write(to: ourConfig, atomically: true, encoding: .utf8)

        let master = namespaces.process(inFirst: true, ptp4l,
            ["-i", namespaces.interfaces.0, "-S", "-m", "-f", ptp4lConfig] + Self.ptp4lFlags(network: network, delayMechanism: delayMechanism))
        try master.start()
        defer { master.stop() }
        let slave = namespaces.process(inFirst: false, TestPaths.pendulumPTPD, ["--config", ourConfig.path])
        try slave.start()
        defer { slave.stop() }

        var samples: [Sample] = []
        var lastCount = -1
        let start = Date()
        while Date().timeIntervalSince(start) < Self.slaveRunSeconds && slave.process.isRunning {
            usleep(250_000)
            guard let status = Self.readStatus(statusPath),
                let count = status["offset_samples"] as? Int, count != lastCount,
                let offset = status["offset_from_master_seconds"] as? Double,
                let ports = status["ports"] as? [[String: Any]], let state = ports.first?["state"] as? String
            else { continue }
            lastCount = count
            let trueError = (status["clock"] as? [String: Any])?["offset_from_system_seconds"] as? Double
            samples.append(Sample(time: Date().timeIntervalSince(start), offset: offset, trueError: trueError, state: state))
        }
        slave.stop()
        #expect(slave.process.terminationStatus == 0, "pendulum-ptpd: \(slave.standardError)")

        let judged = samples.filter { $0.time >= Self.slaveRunSeconds - Self.judgedSeconds }
        let finalState = Self.readStatus(statusPath).flatMap { ($0["ports"] as? [[String: Any]])?.first?["state"] as? String }
        #expect(finalState == "SLAVE", "ptp4l:\n\(master.standardOutput)\nours:\n\(slave.standardOutput)")
        try #require(judged.count >= Int(Self.judgedSeconds / 2), "too few samples: \(judged.count)\n\(slave.standardOutput)")
        #expect(judged.allSatisfy { $0.state == "SLAVE" })
        let rms = (judged.reduce(0) { $0 + $1.offset * $1.offset } / Double(judged.count)).squareRoot()
        let maximum = judged.map { abs($0.offset) }.max() ?? 0
        let errors = judged.compactMap(\.trueError)
        let trueRMS = (errors.reduce(0) { $0 + $1 * $1 } / Double(max(1, errors.count))).squareRoot()
        print("PTP \(network) \(delayMechanism): ptp4l master -> pendulum-ptpd slave, \(Int(Self.slaveRunSeconds)) s run, last \(Int(Self.judgedSeconds)) s: "
            + "RMS offset_from_master \(String(format: "%.0f", rms * 1e9)) ns, max \(String(format: "%.0f", maximum * 1e9)) ns, \(judged.count) samples; "
            + "overlay clock vs system clock: RMS \(String(format: "%.0f", trueRMS * 1e9)) ns, max \(String(format: "%.0f", (errors.map(abs).max() ?? 0) * 1e9)) ns")
        #expect(rms < 50e-6)
    }

    @Test(arguments: [("ipv4", "e2e"), ("ipv4", "p2p")])
    func ourMasterIsPtp4lsGrandmaster(network: String, delayMechanism: String) throws {
        let ptp4l = try TestPaths.requireProgram("ptp4l", package: "linuxptp")
        let pmc = try TestPaths.requireProgram("pmc", package: "linuxptp")
        let tshark = try TestPaths.requireProgram("tshark", package: "tshark")
        let namespaces = try NetworkNamespacePair()
        defer { namespaces.remove() }
        let directory = try TestPaths.temporaryDirectory("ptpd-master")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (ptp4lConfig, uds) = try Self.writePtp4lConfiguration(in: directory)
        let statusPath = directory.appendingPathComponent("status.json").path
        let ourConfig = directory.appendingPathComponent("ptpd.toml")
        try """
            domain = 0
            priority1 = 64
            [clock]
            kind = "overlay"
            [[port]]
            interface = "\(namespaces.interfaces.0)"
            network = "\(network)"
            delay-mechanism = "\(delayMechanism)"
            log-announce-interval = 0
            [observability]
            status-path = "\(statusPath)"
            """.write(to: ourConfig, atomically: true, encoding: .utf8)
        let capture = directory.appendingPathComponent("capture.pcap").path

        let ours = namespaces.process(inFirst: true, TestPaths.pendulumPTPD, ["--config", ourConfig.path])
        try ours.start()
        defer { ours.stop() }
        let sniffer = namespaces.process(inFirst: true, tshark, ["-i", namespaces.interfaces.0, "-a", "duration:20", "-w", capture, "-q"])
        try sniffer.start()
        defer { sniffer.stop() }
        let slave = namespaces.process(inFirst: false, ptp4l,
            ["-i", namespaces.interfaces.1, "-S", "-s", "-m", "-f", ptp4lConfig] + Self.ptp4lFlags(network: network, delayMechanism: delayMechanism))
        try slave.start()
        defer { slave.stop() }

        // Our clock identity, from our status.
        var ourIdentity: String?
        var parentDataSet = ""
        let start = Date()
        while Date().timeIntervalSince(start) < 25 {
            sleep(1)
            if ourIdentity == nil { ourIdentity = Self.readStatus(statusPath)?["clock_identity"] as? String }
            let query = try ChildProcess.run("/usr/sbin/ip", ["netns", "exec", namespaces.names.1, pmc, "-u", "-b", "0", "-s", uds, "GET PARENT_DATA_SET"], timeout: 5)
            parentDataSet = query.stdout
            if let ourIdentity, parentDataSet.contains("grandmasterIdentity") && parentDataSet.contains(ourIdentity),
                slave.standardOutput.contains("to SLAVE") || slave.standardOutput.contains("to UNCALIBRATED")
            {
                break
            }
        }
        let identity = try #require(ourIdentity)
        #expect(parentDataSet.contains("grandmasterIdentity") && parentDataSet.contains(identity),
                "pmc:\n\(parentDataSet)\nptp4l:\n\(slave.standardOutput)")
        #expect(slave.standardOutput.contains("LISTENING to UNCALIBRATED"), "ptp4l:\n\(slave.standardOutput)")
        let ourState = (Self.readStatus(statusPath)?["ports"] as? [[String: Any]])?.first?["state"] as? String
        #expect(ourState == "MASTER")

        // tshark decodes everything we sent without malformed fields.
        sniffer.wait(timeout: 30)
        let decoded = try ChildProcess.run(tshark, ["-r", capture, "-Y", "ptp", "-T", "fields", "-e", "ptp.v2.messagetype",
                                                    "-e", "ptp.v2.clockidentity"], timeout: 30)
        let ourHex = "0x" + identity.replacingOccurrences(of: ".", with: "")
        let ourLines = decoded.stdout.split(separator: "\n").filter { $0.contains(ourHex) }
        let types = Set(ourLines.compactMap { line -> Int? in
            guard let field = line.split(separator: "\t").first else { return nil }
            return field.hasPrefix("0x") ? Int(field.dropFirst(2), radix: 16) : Int(field)
        })
        // Announce, Sync, Follow_Up, and Delay_Resp or the three peer-delay messages.
        let expected: Set<Int> = delayMechanism == "p2p" ? [0xB, 0x0, 0x8, 0x2, 0x3, 0xA] : [0xB, 0x0, 0x8, 0x9]
        #expect(expected.isSubset(of: types), "message types seen from us: \(types.sorted())\n\(decoded.stdout.prefix(2000))")
        let malformed = try ChildProcess.run(tshark, ["-r", capture, "-Y", "ptp && _ws.malformed"], timeout: 30)
        #expect(malformed.stdout.isEmpty, "malformed:\n\(malformed.stdout)")
    }
}
