import Foundation
import Testing

/// The tests' own way of starting peers: what a child gets from the test runner decides whether
/// a polite stop works and whether a port the test closed is really free.
@Suite struct ChildProcessTests {
    @Test func aChildGetsOnlyItsStandardStreams() throws {
        // A descriptor the test holds without close-on-exec must not reach the child.
        let held = open("/dev/null", O_RDONLY)
        defer { close(held) }
        let result = try ChildProcess.run("/bin/ls", ["/proc/self/fd"], timeout: 10)
        #expect(result.status == 0, "\(result.stderr)")
        let descriptors = Set(result.stdout.split(separator: "\n").compactMap { Int32($0) })
        // 0–2, and the one ls opened to list the directory.
        #expect(descriptors.subtracting([0, 1, 2]).count <= 1, "inherited: \(descriptors.sorted())")
        #expect(!descriptors.contains(held) || held < 3)
    }

    @Test func aChildStartsWithNoSignalBlockedAndStopsOnSIGTERM() throws {
        let status = try ChildProcess.run("/bin/grep", ["^SigBlk", "/proc/self/status"], timeout: 10)
        #expect(status.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "SigBlk:\t0000000000000000")

        let sleeper = ChildProcess("/bin/sleep", ["30"])
        try sleeper.start()
        #expect(sleeper.process.isRunning)
        sleeper.process.terminate()
        let deadline = Date().addingTimeInterval(2)
        while sleeper.process.isRunning && Date() < deadline { usleep(10_000) }
        #expect(!sleeper.process.isRunning)
        #expect(sleeper.process.terminationStatus == SIGTERM)
    }

    @Test func outputIsCollectedAndAMissingProgramIsAnError() throws {
        let result = try ChildProcess.run("/bin/sh", ["-c", "echo out; echo err >&2; exit 3"], timeout: 10)
        #expect(result.status == 3)
        #expect(result.stdout == "out\n")
        #expect(result.stderr == "err\n")
        #expect(throws: SpawnFailure.self) { try ChildProcess("/nonexistent/program", []).start() }
    }
}
