import Foundation
import Testing

/// Wireshark's dissector is an independent reading of RFC 5905: our requests (and the
/// conversation with chronyd) must decode as NTP without any malformed-packet complaint.
@Suite struct TsharkDecodeTests {
    @Test func tsharkDecodesOurRequestsCleanly() throws {
        let tshark = try TestPaths.requireProgram("tshark", package: "tshark")
        let chrony = try ChronyServer()
        defer { chrony.stop() }
        let directory = try TestPaths.temporaryDirectory("tshark")
        defer { try? FileManager.default.removeItem(at: directory) }
        let capture = directory.appendingPathComponent("query.pcapng").path

        let capturer = ChildProcess(tshark, ["-i", "lo", "-f", "udp port \(chrony.port)", "-w", capture, "-a", "duration:30"])
        try capturer.start()
        // tshark reports "Capturing on 'Loopback: lo'" once the capture is live.
        let ready = Date().addingTimeInterval(15)
        while !capturer.standardError.contains("Capturing on"), Date() < ready, capturer.process.isRunning { usleep(50_000) }
        #expect(capturer.standardError.contains("Capturing on"), "tshark: \(capturer.standardError)")
        // The message comes slightly before the capture filter is live.
        usleep(1_000_000)

        let query = try ChildProcess.run(TestPaths.pendulum, ["query", "--samples", "3", "--interval", "0.1", "--port", "\(chrony.port)", "127.0.0.1"])
        #expect(query.status == 0, "stderr: \(query.stderr)")
        usleep(500_000)
        capturer.stop()

        // "ntp" is not on a well-known port here: tell the dissector.
        let decoded = try ChildProcess.run(tshark, ["-r", capture, "-d", "udp.port==\(chrony.port),ntp", "-V"])
        #expect(decoded.status == 0, "tshark -r: \(decoded.stderr)")
        let text = decoded.stdout
        let requests = text.components(separatedBy: "Mode: client (3)").count - 1
        let replies = text.components(separatedBy: "Mode: server (4)").count - 1
        // Every request we sent is seen (the first may fall before the capture is live on a
        // loaded machine) and each one seen was answered.
        #expect((2...3).contains(requests), "decoded:\n\(text.prefix(3000))")
        #expect(replies == requests)
        #expect(text.contains("Version number: NTP Version 4 (4)"))
        #expect(!text.localizedCaseInsensitiveContains("malformed"), "decoded:\n\(text)")
        #expect(!text.contains("[Expert Info (Error"), "decoded:\n\(text)")
    }
}
