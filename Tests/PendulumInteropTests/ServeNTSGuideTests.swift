import Foundation
import Testing

/// docs/serve-nts.md's lab block, run as written (with the binaries this test was built with):
/// a self-signed certificate, a private key directory, an NTS server, and an NTS query that
/// trusts it.
@Suite(.serialized) struct ServeNTSGuideTests {
    static let guide = VMScenario.repository.appendingPathComponent("docs/serve-nts.md")

    /// The shell block after the `<!-- guide: lab -->` marker.
    static func labBlock() throws -> String {
        let text = try String(contentsOf: guide, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard let marker = lines.firstIndex(of: "<!-- guide: lab -->"), let open = lines[marker...].firstIndex(of: "```sh"),
            let close = lines[(open + 1)...].firstIndex(of: "```")
        else { throw GuideFailure(description: "no lab block in \(guide.path)") }
        return lines[(open + 1)..<close].joined(separator: "\n")
    }

    struct GuideFailure: Error, CustomStringConvertible { var description: String }

    @Test func theLabBlockServesNTS() async throws {
        var block = try Self.labBlock()
        // Never the system clock, whoever runs the guide: the block must say so itself.
        #expect(block.contains("kind = \"overlay\""))
        let build = URL(fileURLWithPath: TestPaths.pendulum).deletingLastPathComponent().path
        block = block.replacingOccurrences(of: "PATH=\"$PWD/.build/release:$PATH\"", with: "PATH=\"\(build):$PATH\"")
        let directory = try TestPaths.temporaryDirectory("nts-lab")
        defer { try? FileManager.default.removeItem(at: directory) }
        block = block.replacingOccurrences(of: "/tmp/nts-lab", with: directory.path)
        let script = directory.appendingPathComponent("lab.sh").path
        try ("set -e\n" + block + "\n").write(toFile: script, atomically: true, encoding: .utf8)
        let result = try await offCooperativePool { try ChildProcess.run("/bin/bash", [script], timeout: 60) }
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("nts              authenticated, AEAD 15, 8 cookies held"), "\(result.stdout)")
        #expect(result.stdout.contains("accepted 1, answered 1"), "\(result.stdout)")
        let log = (try? String(contentsOfFile: directory.appendingPathComponent("daemon.log").path, encoding: .utf8)) ?? ""
        #expect(log.contains("overlay clock"), "\(log)")
        let keys = try FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent("keys").path)
        #expect((keys[.posixPermissions] as? Int) == 0o700)
    }
}
