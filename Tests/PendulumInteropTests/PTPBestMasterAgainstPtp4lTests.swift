import Foundation
import Testing

/// BMCA interop: pendulum-ptpd and ptp4l both master-capable on one link; the better priority1
/// must win in both implementations' view, whichever side has it.
@Suite("BMCA between pendulum-ptpd and ptp4l", .serialized)
struct PTPBestMasterAgainstPtp4lTests {
    @Test(arguments: [(64, 200), (200, 64)])
    func betterPriority1Wins(ourPriority1: Int, ptp4lPriority1: Int) throws {
        let ptp4l = try TestPaths.requireProgram("ptp4l", package: "linuxptp")
        let pmc = try TestPaths.requireProgram("pmc", package: "linuxptp")
        let namespaces = try NetworkNamespacePair()
        defer { namespaces.remove() }
        let directory = try TestPaths.temporaryDirectory("ptpd-bmca")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (ptp4lConfig, uds) = try PTPAgainstPtp4lTests.writePtp4lConfiguration(in: directory, extra: "priority1 \(ptp4lPriority1)")
        let statusPath = directory.appendingPathComponent("status.json").path
        let ourConfig = directory.appendingPathComponent("ptpd.toml")
        try """
            domain = 0
            priority1 = \(ourPriority1)
            [clock]
            kind = "overlay"
            [[port]]
            interface = "\(namespaces.interfaces.0)"
            log-announce-interval = 0
            [observability]
            status-path = "\(statusPath)"
            """.write(to: ourConfig, atomically: true, encoding: .utf8)
        let ours = namespaces.process(inFirst: true, TestPaths.pendulumPTPD, ["--config", ourConfig.path])
        try ours.start()
        defer { ours.stop() }
        let theirs = namespaces.process(inFirst: false, ptp4l, ["-i", namespaces.interfaces.1, "-S", "-m", "-4", "-f", ptp4lConfig])
        try theirs.start()
        defer { theirs.stop() }

        func query(_ command: String) throws -> String {
            try ChildProcess.run("/usr/sbin/ip", ["netns", "exec", namespaces.names.1, pmc, "-u", "-b", "0", "-s", uds, command], timeout: 5).stdout
        }
        func field(_ name: String, in text: String) -> String? {
            text.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix(name + " ") }?
                .split(separator: " ", omittingEmptySubsequences: true).last.map(String.init)
        }
        let weWin = ourPriority1 < ptp4lPriority1
        var ourIdentity: String?, ourGrandmaster: String?, ourState: String?
        var theirIdentity: String?, theirGrandmaster: String?, theirState: String?
        let start = Date()
        while Date().timeIntervalSince(start) < 30 {
            sleep(1)
            let status = PTPAgainstPtp4lTests.readStatus(statusPath)
            ourIdentity = status?["clock_identity"] as? String
            ourGrandmaster = status?["grandmaster_identity"] as? String
            ourState = (status?["ports"] as? [[String: Any]])?.first?["state"] as? String
            theirIdentity = field("clockIdentity", in: try query("GET DEFAULT_DATA_SET"))
            theirGrandmaster = field("grandmasterIdentity", in: try query("GET PARENT_DATA_SET"))
            theirState = field("portState", in: try query("GET PORT_DATA_SET"))
            let winner = weWin ? ourIdentity : theirIdentity
            if winner != nil, ourGrandmaster == winner, theirGrandmaster == winner,
                (weWin ? ourState : theirState) == "MASTER",
                ["SLAVE", "UNCALIBRATED"].contains((weWin ? theirState : ourState) ?? "")
            {
                break
            }
        }
        let winner = try #require(weWin ? ourIdentity : theirIdentity)
        let context = "ours: \(ourState ?? "?") gm \(ourGrandmaster ?? "?"); ptp4l: \(theirState ?? "?") gm \(theirGrandmaster ?? "?")\n\(ours.standardOutput)\n\(theirs.standardOutput)"
        #expect(ourGrandmaster == winner, "\(context)")
        #expect(theirGrandmaster == winner, "\(context)")
        #expect((weWin ? ourState : theirState) == "MASTER", "\(context)")
        #expect(["SLAVE", "UNCALIBRATED"].contains((weWin ? theirState : ourState) ?? ""), "\(context)")
    }
}
