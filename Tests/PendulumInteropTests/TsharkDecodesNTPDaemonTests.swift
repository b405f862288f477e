import Foundation
import Testing

/// Wireshark's dissector reads our server's replies, plain and NTS, with nothing malformed.
extension NTPDaemonInteropTests {
    @Suite(.serialized) struct TsharkDecodesNTPDaemonTests {
        @Test func tsharkDecodesOurRepliesCleanly() async throws {
            let tshark = try TestPaths.requireProgram("tshark", package: "tshark")
            let daemon = try await offCooperativePool { try NTPDaemonProcess(nts: true) }
            defer { daemon.remove() }
            let certificate = try #require(daemon.certificate)
            let directory = try TestPaths.temporaryDirectory("tshark-ntpd")
            defer { try? FileManager.default.removeItem(at: directory) }
            let capture = directory.appendingPathComponent("replies.pcapng").path
            let port = daemon.ntpPort

            let decoded = try await offCooperativePool { () throws -> (status: Int32, stdout: String, stderr: String) in
                let capturer = ChildProcess(tshark, ["-i", "lo", "-f", "udp port \(port)", "-w", capture, "-a", "duration:10"])
                try capturer.start()
                let ready = Date().addingTimeInterval(15)
                while !capturer.standardError.contains("Capturing on"), Date() < ready, capturer.process.isRunning { usleep(50_000) }
                // The message comes slightly before the capture filter is live.
                usleep(1_000_000)
                _ = try ChildProcess.run(TestPaths.pendulum, ["query", "--samples", "3", "--interval", "0.1", "--port", "\(port)", "127.0.0.1"], timeout: 10)
                _ = try ChildProcess.run(TestPaths.pendulum, [
                    "query", "--nts", "--samples", "3", "--interval", "0.1", "--ca-file", certificate.certificatePath,
                    "--ke-port", "\(daemon.ntsKEPort ?? 0)", "--port", "\(port)", "127.0.0.1",
                ], timeout: 15)
                usleep(500_000)
                capturer.stop()
                return try ChildProcess.run(tshark, ["-r", capture, "-d", "udp.port==\(port),ntp", "-V"])
            }
            #expect(decoded.status == 0, "tshark -r: \(decoded.stderr)")
            let text = decoded.stdout
            let replies = text.components(separatedBy: "Mode: server (4)").count - 1
            // Six queries (the first may fall before the capture is live on a loaded machine).
            #expect((5...6).contains(replies), "decoded:\n\(text.prefix(3000))")
            // Three NTS requests and three replies each carry an authenticator (RFC 8915 §5.7):
            // more than three decoded means our replies' fields were read as such.
            let authenticators = text.components(separatedBy: "Field Type: NTS Authenticator").count - 1
            #expect((5...6).contains(authenticators), "decoded:\n\(text.prefix(4000))")
            #expect(!text.localizedCaseInsensitiveContains("malformed"), "decoded:\n\(text)")
            #expect(!text.contains("[Expert Info (Error"), "decoded:\n\(text)")
        }
    }
}
