import Foundation
import Testing

/// BMCA interop: pendulum-ptpd and ptp4l both master-capable on one link; the better priority1
/// must win in both implementations' view, whichever side has it, on every transport. The six
/// cases run at once, each on its own namespace pair.
@Suite("BMCA between pendulum-ptpd and ptp4l", .serialized)
struct PTPBestMasterAgainstPtp4lTests {
    static let cases: [(network: String, ours: Int, theirs: Int)] = ["ipv4", "ipv6", "ethernet"].flatMap { network in
        [(network, 64, 200), (network, 200, 64)]
    }

    struct Outcome: Sendable {
        var name: String
        var weWin: Bool
        var setupFailure: String?
        var ourIdentity: String?, ourGrandmaster: String?, ourState: String?
        var theirIdentity: String?, theirGrandmaster: String?, theirState: String?
        var logs = ""
    }

    @Test func betterPriority1Wins() throws {
        let ptp4l = try TestPaths.requireProgram("ptp4l", package: "linuxptp")
        let pmc = try TestPaths.requireProgram("pmc", package: "linuxptp")
        NetworkNamespacePair.removeStale()
        let outcomes = runConcurrently(Self.cases.count) { index in
            let entry = Self.cases[index]
            return Self.contest(network: entry.network, ourPriority1: entry.ours, ptp4lPriority1: entry.theirs, ptp4l: ptp4l, pmc: pmc)
        }
        for outcome in outcomes {
            if let failure = outcome.setupFailure {
                Issue.record("\(outcome.name): \(failure)")
                continue
            }
            let winner = outcome.weWin ? outcome.ourIdentity : outcome.theirIdentity
            let context = "\(outcome.name): ours \(outcome.ourState ?? "?") gm \(outcome.ourGrandmaster ?? "?"); ptp4l \(outcome.theirState ?? "?") gm \(outcome.theirGrandmaster ?? "?")\n\(outcome.logs)"
            #expect(winner != nil, "\(context)")
            #expect(outcome.ourGrandmaster == winner, "\(context)")
            #expect(outcome.theirGrandmaster == winner, "\(context)")
            #expect((outcome.weWin ? outcome.ourState : outcome.theirState) == "MASTER", "\(context)")
            #expect(["SLAVE", "UNCALIBRATED"].contains((outcome.weWin ? outcome.theirState : outcome.ourState) ?? ""), "\(context)")
            print("PTP BMCA \(outcome.name): grandmaster \(winner ?? "?"); ours \(outcome.ourState ?? "?"), ptp4l \(outcome.theirState ?? "?")")
        }
    }

    static func contest(network: String, ourPriority1: Int, ptp4lPriority1: Int, ptp4l: String, pmc: String) -> Outcome {
        var outcome = Outcome(name: "\(network), our priority1 \(ourPriority1) vs ptp4l \(ptp4lPriority1)", weWin: ourPriority1 < ptp4lPriority1)
        do {
            let namespaces = try NetworkNamespacePair()
            defer { namespaces.remove() }
            let directory = try TestPaths.temporaryDirectory("ptpd-bmca")
            defer { try? FileManager.default.removeItem(at: directory) }
            let (ptp4lConfig, uds) = try PTPAgainstPtp4lTests.writePtp4lConfiguration(in: directory, extra: "priority1 \(ptp4lPriority1)")
            let socket = directory.appendingPathComponent("observe").path
            let ourConfig = directory.appendingPathComponent("ptpd.toml")
            try """
                domain = 0
                priority1 = \(ourPriority1)
                [clock]
                kind = "overlay"
                [[port]]
                interface = "\(namespaces.interfaces.0)"
                network = "\(network)"
                log-announce-interval = 0
                [observability]
                observation-path = "\(socket)"
                """.write(to: ourConfig, atomically: true, encoding: .utf8)
            let ours = namespaces.process(inFirst: true, TestPaths.pendulumPTPD, ["--config", ourConfig.path])
            try ours.start()
            defer { ours.stop() }
            let theirs = namespaces.process(inFirst: false, ptp4l,
                ["-i", namespaces.interfaces.1, "-S", "-m", "-f", ptp4lConfig] + PTPAgainstPtp4lTests.ptp4lFlags(network: network, delayMechanism: "e2e"))
            try theirs.start()
            defer { theirs.stop() }

            func query(_ command: String) throws -> String {
                try ChildProcess.run("/usr/sbin/ip", ["netns", "exec", namespaces.names.1, pmc, "-u", "-b", "0", "-s", uds, command], timeout: 5).stdout
            }
            func field(_ name: String, in text: String) -> String? {
                text.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix(name + " ") }?
                    .split(separator: " ", omittingEmptySubsequences: true).last.map(String.init)
            }
            let start = Date()
            while Date().timeIntervalSince(start) < 30 {
                sleep(1)
                let status = PTPObservation.ptp(socket)
                outcome.ourIdentity = status?.clockIdentity
                outcome.ourGrandmaster = status?.grandmasterIdentity
                outcome.ourState = status?.ports.first?.state
                outcome.theirIdentity = field("clockIdentity", in: try query("GET DEFAULT_DATA_SET"))
                outcome.theirGrandmaster = field("grandmasterIdentity", in: try query("GET PARENT_DATA_SET"))
                outcome.theirState = field("portState", in: try query("GET PORT_DATA_SET"))
                let winner = outcome.weWin ? outcome.ourIdentity : outcome.theirIdentity
                if winner != nil, outcome.ourGrandmaster == winner, outcome.theirGrandmaster == winner,
                    (outcome.weWin ? outcome.ourState : outcome.theirState) == "MASTER",
                    ["SLAVE", "UNCALIBRATED"].contains((outcome.weWin ? outcome.theirState : outcome.ourState) ?? "")
                {
                    break
                }
            }
            outcome.logs = "ours:\n\(ours.standardOutput.suffix(2000))\nptp4l:\n\(theirs.standardOutput.suffix(2000))"
        } catch {
            outcome.setupFailure = "\(error)"
        }
        return outcome
    }
}
