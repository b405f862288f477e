import Foundation
import PendulumBoundedTime
import PendulumSync
import PendulumTime
import Testing

/// pendulum-ptpd against linuxptp's ptp4l across veth pairs between network namespaces,
/// software timestamps. ptp4l never steers a clock (`free_running 1`); pendulum-ptpd steers an
/// overlay clock. Runs as root (CI); each test creates and deletes its own namespaces.
@Suite("pendulum-ptpd against ptp4l", .serialized)
struct PTPAgainstPtp4lTests {
    /// Issue 7: a 3-minute run, judged over its last minute.
    static let slaveRunSeconds = 180.0
    static let judgedSeconds = 60.0
    static let combinations = [("ipv4", "e2e"), ("ipv4", "p2p"), ("ipv6", "e2e"), ("ipv6", "p2p"), ("ethernet", "e2e"), ("ethernet", "p2p")]

    struct Sample {
        var time: Double
        var offset: Double
        /// The overlay clock minus the system clock, which ptp4l's free-running master also
        /// reads: the true error on one machine.
        var trueError: Double?
        var state: String
    }

    /// One reading of the bounds pendulum-ptpd publishes, as a program gets it.
    struct BoundsReading {
        var time: Double
        var synchronized: Bool
        /// CLOCK_REALTIME (the truth here) inside [earliest, latest].
        var holdsTrueTime: Bool
        var boundSeconds: Double
        var trueErrorSeconds: Double
    }

    static func ptp4lFlags(network: String, delayMechanism: String) -> [String] {
        let transport = ["ipv4": "-4", "ipv6": "-6", "ethernet": "-2"][network] ?? "-4"
        return [transport, delayMechanism == "p2p" ? "-P" : "-E"]
    }

    static func writePtp4lConfiguration(in directory: URL, extra: String = "") throws -> (config: String, uds: String) {
        let uds = directory.appendingPathComponent("ptp4l.sock").path
        let config = directory.appendingPathComponent("ptp4l.cfg")
        // free_running: ptp4l must never steer the machine's clock, as master or slave. A
        // private management socket, so concurrent ptp4l instances do not take each other's.
        try """
            [global]
            free_running 1
            uds_address \(uds)
            logging_level 6
            \(extra)
            """.write(to: config, atomically: true, encoding: .utf8)
        return (config.path, uds)
    }

    /// The message types tshark decodes from `identity` in a capture, and any malformed PTP packets.
    static func decode(capture: String, identity: String, tshark: String) throws -> (types: Set<Int>, decoded: String, malformed: String) {
        let decoded = try ChildProcess.run(tshark, ["-r", capture, "-Y", "ptp", "-T", "fields", "-e", "ptp.v2.messagetype",
                                                    "-e", "ptp.v2.clockidentity"], timeout: 30)
        let ourHex = "0x" + identity.replacingOccurrences(of: ".", with: "")
        let types = Set(decoded.stdout.split(separator: "\n").filter { $0.contains(ourHex) }.compactMap { line -> Int? in
            guard let field = line.split(separator: "\t").first else { return nil }
            return field.hasPrefix("0x") ? Int(field.dropFirst(2), radix: 16) : Int(field)
        })
        let malformed = try ChildProcess.run(tshark, ["-r", capture, "-Y", "ptp && _ws.malformed"], timeout: 30).stdout
        return (types, decoded.stdout, malformed)
    }

    static func nanoseconds(_ seconds: Double) -> String { String(format: "%.0f ns", seconds * 1e9) }

    static func rms(_ values: [Double]) -> Double {
        (values.reduce(0) { $0 + $1 * $1 } / Double(max(1, values.count))).squareRoot()
    }

    /// One ptp4l master and one pendulum-ptpd slave on their own namespace pair.
    final class SlaveRun {
        let network: String
        let delayMechanism: String
        let namespaces: NetworkNamespacePair
        let directory: URL
        let socket: String
        var master: ChildProcess?
        var slave: ChildProcess?
        /// tshark on our side for the first 30 s: what we send as a slave decodes cleanly.
        var sniffer: ChildProcess?
        var capture: String { directory.appendingPathComponent("slave.pcap").path }
        var samples: [Sample] = []
        var boundsReadings: [BoundsReading] = []
        var lastCount = -1
        var boundsPath: String { directory.appendingPathComponent("bounds").path }

        init(network: String, delayMechanism: String) throws {
            self.network = network
            self.delayMechanism = delayMechanism
            namespaces = try NetworkNamespacePair()
            do {
                directory = try TestPaths.temporaryDirectory("ptpd-slave-\(network)-\(delayMechanism)")
            } catch {
                namespaces.remove()
                throw error
            }
            socket = directory.appendingPathComponent("observe").path
        }

        func start(ptp4l: String, tshark: String) throws {
            let sniffer = namespaces.process(inFirst: false, tshark, ["-i", namespaces.interfaces.1, "-a", "duration:30", "-w", capture, "-q"])
            self.sniffer = sniffer
            try sniffer.start()
            let (ptp4lConfig, _) = try PTPAgainstPtp4lTests.writePtp4lConfiguration(in: directory)
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
                observation-path = "\(socket)"
                bounds-path = "\(boundsPath)"
                """.write(to: ourConfig, atomically: true, encoding: .utf8)
            let master = namespaces.process(inFirst: true, ptp4l,
                ["-i", namespaces.interfaces.0, "-S", "-m", "-f", ptp4lConfig] + PTPAgainstPtp4lTests.ptp4lFlags(network: network, delayMechanism: delayMechanism))
            self.master = master
            try master.start()
            let slave = namespaces.process(inFirst: false, TestPaths.pendulumPTPD, ["--config", ourConfig.path])
            self.slave = slave
            try slave.start()
        }

        /// Records the latest sample if the daemon measured a new one, and the published bounds.
        func poll(at time: Double) {
            if let instant = try? BoundedClock(path: boundsPath).now() {
                boundsReadings.append(BoundsReading(
                    time: time, synchronized: instant.synchronized,
                    holdsTrueTime: instant.earliest <= instant.system && instant.system <= instant.latest,
                    boundSeconds: Double(instant.boundNanoseconds) * 1e-9,
                    trueErrorSeconds: (instant.clock - instant.system).seconds))
            }
            guard let ptp = PTPObservation.read(socket).flatMap({ snapshot in snapshot.ptp.map { (snapshot, $0) } }),
                ptp.1.offsetSamples != lastCount, let offset = ptp.1.offsetFromMasterSeconds, let state = ptp.1.ports.first?.state
            else { return }
            lastCount = ptp.1.offsetSamples
            samples.append(Sample(time: time, offset: offset, trueError: ptp.0.clock.offsetFromSystemSeconds, state: state))
        }

        func stop() {
            slave?.stop()
            master?.stop()
            sniffer?.stop()
        }

        func cleanUp() {
            stop()
            namespaces.remove()
            try? FileManager.default.removeItem(at: directory)
        }
    }

    /// ptp4l master → our slave, all six transport × delay-mechanism combinations at once (six
    /// namespace pairs), so the issue's 3-minute runs cost 3 minutes in CI, not 18.
    @Test func ptp4lMastersDisciplineOurSlaves() throws {
        let ptp4l = try TestPaths.requireProgram("ptp4l", package: "linuxptp")
        let tshark = try TestPaths.requireProgram("tshark", package: "tshark")
        NetworkNamespacePair.removeStale()
        var runs: [SlaveRun] = []
        defer { runs.forEach { $0.cleanUp() } }
        for (network, delayMechanism) in Self.combinations {
            runs.append(try SlaveRun(network: network, delayMechanism: delayMechanism))
        }
        for run in runs { try run.start(ptp4l: ptp4l, tshark: tshark) }

        let start = Date()
        // Stop early if any program dies: the run is lost anyway.
        func allRunning() -> Bool {
            runs.allSatisfy { $0.slave?.process.isRunning == true && $0.master?.process.isRunning == true }
        }
        while Date().timeIntervalSince(start) < Self.slaveRunSeconds && allRunning() {
            usleep(250_000)
            for run in runs { run.poll(at: Date().timeIntervalSince(start)) }
        }
        let finalStatus = runs.map { PTPObservation.ptp($0.socket) }
        let finalStates = finalStatus.map { $0?.ports.first?.state }
        let mastersRan = runs.map { $0.master?.process.isRunning == true }
        // What an operator sees on a disciplined slave.
        let statusTable = try ChildProcess.run(TestPaths.pendulum, ["status", "--socket", runs[0].socket], timeout: 10).stdout
        for run in runs { run.stop() }
        // A stopped daemon leaves no bound a program could go on trusting.
        let boundsAfterStop = runs.map { try? BoundedClock(path: $0.boundsPath).now() }

        var table = ["PTP ptp4l master -> pendulum-ptpd slave, \(Int(Self.slaveRunSeconds)) s runs, concurrently, judged over the last \(Int(Self.judgedSeconds)) s:",
                     "transport delay  samples  RMS offset_from_master  max  |  true error RMS  max"]
        for (index, (run, finalState)) in zip(runs, finalStates).enumerated() {
            let name = "\(run.network) \(run.delayMechanism)"
            let judged = run.samples.filter { $0.time >= Self.slaveRunSeconds - Self.judgedSeconds }
            let offsets = judged.map(\.offset)
            let errors = judged.compactMap(\.trueError)
            let rms = Self.rms(offsets)
            table.append("\(name): \(judged.count) samples, RMS \(Self.nanoseconds(rms)), max \(Self.nanoseconds(offsets.map(abs).max() ?? 0))"
                + " | true error RMS \(Self.nanoseconds(Self.rms(errors))), max \(Self.nanoseconds(errors.map(abs).max() ?? 0))")
            let context = "\(name)\nptp4l:\n\(run.master?.standardOutput.suffix(3000) ?? "")\(run.master?.standardError.suffix(1000) ?? "")\nours:\n\(run.slave?.standardOutput.suffix(3000) ?? "")\n\(run.slave?.standardError ?? "")"
            #expect(mastersRan[index], "ptp4l stopped early: \(context)")
            #expect(run.slave?.process.terminationStatus == 0, "pendulum-ptpd did not exit cleanly: \(context)")
            #expect(finalState == "SLAVE", "\(context)")
            // One sample per Sync (1 s); a loaded machine may lose a few polls, not half.
            #expect(judged.count >= Int(Self.judgedSeconds / 2), "too few samples: \(judged.count)\n\(context)")
            #expect(!judged.isEmpty && judged.allSatisfy { $0.state == "SLAVE" }, "left SLAVE: \(context)")
            // offset_from_master is software timestamps on a veth, and a loaded machine delays a
            // timestamp now and then by 50-400 µs: one such sample in 60 carries the RMS past
            // 50 µs while the clock itself holds. So the clock is judged by its true error
            // (overlay against the system clock ptp4l serves) and the measurements by their
            // 90th percentile; the RMS is reported.
            let trueRMS = Self.rms(errors)
            #expect(!errors.isEmpty && trueRMS < 50e-6, "true error RMS \(trueRMS): \(context)")
            let percentile90 = offsets.map(abs).sorted().dropLast(offsets.count / 10).last ?? .infinity
            #expect(percentile90 < 50e-6, "90th percentile of |offset from master| \(percentile90) (RMS \(rms)): \(context)")
            #expect(boundsAfterStop[index] == nil, "\(name): a bound after the daemon stopped: \(String(describing: boundsAfterStop[index]))")
            // The published bound, read as a program reads it 4 times a second: from the first
            // synchronised reading on, true time (the system clock ptp4l serves) inside it.
            let bounded = run.boundsReadings.drop { !$0.synchronized }
            let outside = bounded.filter { !$0.holdsTrueTime }
            #expect(bounded.count >= Int(Self.judgedSeconds), "\(name): \(bounded.count) bounds readings\n\(context)")
            #expect(outside.isEmpty, "\(name): true time outside the bound in \(outside.count) of \(bounded.count) readings, first \(outside.prefix(3).map { "t=\($0.time) error \($0.trueErrorSeconds) bound \($0.boundSeconds)" })")
            let judgedBounds = bounded.filter { $0.time >= Self.slaveRunSeconds - Self.judgedSeconds }.map(\.boundSeconds)
            table.append("    bounds: \(bounded.count) readings, \(outside.count) outside; mean bound over the judged span \(Self.nanoseconds(judgedBounds.reduce(0, +) / Double(max(1, judgedBounds.count)))), max \(Self.nanoseconds(judgedBounds.max() ?? 0))")
            // What we sent as a slave: Delay_Req (E2E) or the peer-delay messages (P2P: we
            // request and, to ptp4l's requests, respond).
            if let identity = finalStatus[index]?.clockIdentity {
                let (types, decoded, malformed) = try Self.decode(capture: run.capture, identity: identity, tshark: tshark)
                let expected: Set<Int> = run.delayMechanism == "p2p" ? [0x2, 0x3, 0xA] : [0x1]
                #expect(expected.isSubset(of: types), "\(name): message types seen from us: \(types.sorted())\n\(decoded.prefix(2000))")
                #expect(malformed.isEmpty, "\(name) malformed:\n\(malformed)")
            } else {
                Issue.record("\(name): no final status")
            }
        }
        print(table.joined(separator: "\n"))
        print("pendulum status (\(runs[0].network) \(runs[0].delayMechanism)):\n\(statusTable)")
        #expect(statusTable.contains("synchronised     yes") && statusTable.contains("SLAVE"), "\(statusTable)")
    }

    /// Our master → ptp4l slave on every transport and delay mechanism, concurrently: ptp4l
    /// takes our clock as grandmaster and leaves LISTENING; tshark decodes what we send.
    @Test func ourMasterIsPtp4lsGrandmaster() throws {
        let ptp4l = try TestPaths.requireProgram("ptp4l", package: "linuxptp")
        let pmc = try TestPaths.requireProgram("pmc", package: "linuxptp")
        let tshark = try TestPaths.requireProgram("tshark", package: "tshark")
        NetworkNamespacePair.removeStale()
        let results = runConcurrently(Self.combinations.count) { index in
            let (network, delayMechanism) = Self.combinations[index]
            return Self.checkOurMaster(network: network, delayMechanism: delayMechanism, ptp4l: ptp4l, pmc: pmc, tshark: tshark)
        }
        for result in results {
            let name = "\(result.network) \(result.delayMechanism)"
            if let failure = result.setupFailure {
                Issue.record("\(name): \(failure)")
                continue
            }
            let identity = result.ourIdentity ?? "(no identity)"
            #expect(result.ourIdentity != nil, "\(name): no status from pendulum-ptpd")
            #expect(result.parentDataSet.contains("grandmasterIdentity") && result.parentDataSet.contains(identity),
                    "\(name) pmc:\n\(result.parentDataSet)\nptp4l:\n\(result.ptp4lOutput)")
            #expect(result.ptp4lOutput.contains("LISTENING to UNCALIBRATED"), "\(name) ptp4l:\n\(result.ptp4lOutput)")
            #expect(result.ourState == "MASTER", "\(name): our state \(result.ourState ?? "?")")
            // Announce, Sync, Follow_Up, and Delay_Resp or the three peer-delay messages.
            let expected: Set<Int> = result.delayMechanism == "p2p" ? [0xB, 0x0, 0x8, 0x2, 0x3, 0xA] : [0xB, 0x0, 0x8, 0x9]
            #expect(expected.isSubset(of: result.messageTypes), "\(name): message types seen from us: \(result.messageTypes.sorted())\n\(result.decoded.prefix(2000))")
            #expect(result.malformed.isEmpty, "\(name) malformed:\n\(result.malformed)")
            print("PTP our master -> ptp4l slave, \(name): ptp4l grandmaster \(identity), message types from us \(result.messageTypes.sorted().map { String($0, radix: 16) })")
        }
    }

    struct MasterCheck: Sendable {
        var network: String
        var delayMechanism: String
        var setupFailure: String?
        var ourIdentity: String?
        var ourState: String?
        var parentDataSet = ""
        var ptp4lOutput = ""
        var messageTypes: Set<Int> = []
        var decoded = ""
        var malformed = ""
    }

    static func checkOurMaster(network: String, delayMechanism: String, ptp4l: String, pmc: String, tshark: String) -> MasterCheck {
        var result = MasterCheck(network: network, delayMechanism: delayMechanism)
        do {
            let namespaces = try NetworkNamespacePair()
            defer { namespaces.remove() }
            let directory = try TestPaths.temporaryDirectory("ptpd-master")
            defer { try? FileManager.default.removeItem(at: directory) }
            let (ptp4lConfig, uds) = try writePtp4lConfiguration(in: directory)
            let socket = directory.appendingPathComponent("observe").path
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
                observation-path = "\(socket)"
                """.write(to: ourConfig, atomically: true, encoding: .utf8)
            let capture = directory.appendingPathComponent("capture.pcap").path

            let ours = namespaces.process(inFirst: true, TestPaths.pendulumPTPD, ["--config", ourConfig.path])
            try ours.start()
            defer { ours.stop() }
            let sniffer = namespaces.process(inFirst: true, tshark, ["-i", namespaces.interfaces.0, "-a", "duration:20", "-w", capture, "-q"])
            try sniffer.start()
            defer { sniffer.stop() }
            let slave = namespaces.process(inFirst: false, ptp4l,
                ["-i", namespaces.interfaces.1, "-S", "-s", "-m", "-f", ptp4lConfig] + ptp4lFlags(network: network, delayMechanism: delayMechanism))
            try slave.start()
            defer { slave.stop() }

            let start = Date()
            while Date().timeIntervalSince(start) < 25 {
                sleep(1)
                if result.ourIdentity == nil { result.ourIdentity = PTPObservation.ptp(socket)?.clockIdentity }
                let query = try ChildProcess.run("/usr/sbin/ip", ["netns", "exec", namespaces.names.1, pmc, "-u", "-b", "0", "-s", uds, "GET PARENT_DATA_SET"], timeout: 5)
                result.parentDataSet = query.stdout
                if let identity = result.ourIdentity, query.stdout.contains("grandmasterIdentity") && query.stdout.contains(identity),
                    slave.standardOutput.contains("to SLAVE") || slave.standardOutput.contains("to UNCALIBRATED")
                {
                    break
                }
            }
            result.ptp4lOutput = slave.standardOutput
            result.ourState = PTPObservation.ptp(socket)?.ports.first?.state
            guard let identity = result.ourIdentity else { return result }

            sniffer.wait(timeout: 30)
            (result.messageTypes, result.decoded, result.malformed) = try decode(capture: capture, identity: identity, tshark: tshark)
        } catch {
            result.setupFailure = "\(error)"
        }
        return result
    }
}
