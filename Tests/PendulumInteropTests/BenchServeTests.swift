import Foundation
import PendulumIO
import Testing

/// The serving benchmark's tools as the benchmark script runs them: `pendulum bench reflect`
/// (the kernel's floor) and `pendulum bench serve` against chronyd, pendulum-ntpd and the
/// reflector in one run. Low rates only: this checks that the tools work and count, not speed.
extension NTPDaemonInteropTests {
    @Suite(.serialized) struct BenchServeTests {
        @Test func reflectorTurnsARequestAroundAndStopsByItself() async throws {
            let port = freeUDPPort()
            let reflector = ChildProcess(TestPaths.pendulum, ["bench", "reflect", "--listen", "127.0.0.1:\(port)", "--seconds", "2"])
            try reflector.start()
            let socket = try TimestampedUDPSocket(family: .ipv4, kernelTimestamps: false)
            try socket.connect(to: try #require(SocketAddress(ip: "127.0.0.1", port: port)))
            var request = [UInt8](repeating: 0, count: 48)
            request[0] = 0x23  // version 4, client
            let transmit: [UInt8] = [0xE9, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07]
            request.replaceSubrange(40..<48, with: transmit)
            var reply: [UInt8]?
            // The reflector binds after it starts; until then the connected socket is refused.
            for _ in 0..<20 where reply == nil {
                _ = try? socket.send(request)
                reply = (try? socket.receive(timeout: .milliseconds(100)))??.bytes
                if reply == nil { usleep(50_000) }
            }
            let answer = try #require(reply, "no answer from the reflector")
            #expect(answer.count == 48)
            #expect(answer[0] & 0x7 == 4)
            #expect(answer[1] == 2)
            #expect(Array(answer[24..<32]) == transmit)
            // A datagram that is not a client request gets nothing.
            var serverMode = request
            serverMode[0] = 0x24
            try socket.send(serverMode)
            #expect(try socket.receive(timeout: .milliseconds(200)) == nil)
            let status = try await offCooperativePool { reflector.wait(timeout: 10) }
            #expect(status == 0, "\(reflector.standardError)")
            let answered = reflector.standardOutput.split(separator: " ").dropFirst().first.flatMap { Int($0) }
            #expect(answered.map { $0 >= 1 } == true, "\(reflector.standardOutput)")
        }

        @Test(arguments: ["192.0.2.1:12345", "0.0.0.0:12345", "[::]:12345", "localhost", "127.0.0.1:99999"])
        func reflectorRefusesAnythingButALoopbackAddress(listen: String) throws {
            let result = try ChildProcess.run(TestPaths.pendulum, ["bench", "reflect", "--listen", listen, "--seconds", "1"], timeout: 10)
            #expect(result.status != 0)
            #expect(result.stderr.contains("loopback"), "\(result.stderr)")
        }

        /// The plain run of benchmarks/serve-side-by-side.sh in small: chronyd first, then
        /// pendulum-ntpd and the reflector; then NTS against pendulum-ntpd with its own NTS-KE.
        @Test func sideBySideRunCountsEveryTarget() async throws {
            let chrony = try ChronyServer(stratum: 2)
            defer { chrony.stop() }
            // As in the benchmark configuration: one source address at 1,000/s is far over the default rate limit.
            let daemon = try await offCooperativePool { try NTPDaemonProcess(nts: true, serverLines: ["rate-limit-interval-ms = 0"]) }
            defer { daemon.remove() }
            let floorPort = freeUDPPort()
            let reflector = ChildProcess(TestPaths.pendulum, ["bench", "reflect", "--listen", "127.0.0.1:\(floorPort)", "--seconds", "20"])
            try reflector.start()
            defer { reflector.stop() }
            usleep(300_000)

            let plain = try await offCooperativePool {
                try ChildProcess.run(TestPaths.pendulum, [
                    "bench", "serve", "--json", "--rates", "1000,2000", "--step-seconds", "0.5",
                    "--target", "chronyd=127.0.0.1:\(chrony.port)", "--target", "pendulum-ntpd=127.0.0.1:\(daemon.ntpPort)",
                    "--target", "kernel-floor=127.0.0.1:\(floorPort)",
                ], timeout: 60)
            }
            #expect(plain.status == 0, "\(plain.stderr)")
            let reports = try #require(try JSONSerialization.jsonObject(with: Data(plain.stdout.utf8)) as? [[String: Any]], "\(plain.stdout)")
            #expect(reports.map { $0["target"] as? String } == ["chronyd", "pendulum-ntpd", "kernel-floor"])
            for report in reports {
                let steps = try #require(report["steps"] as? [[String: Any]])
                #expect(steps.count == 2, "\(report)")
                for step in steps {
                    #expect((step["answered"] as? Int ?? 0) > 0, "\(report)")
                    #expect(step["invalid"] as? Int == 0, "\(report)")
                }
                #expect((report["most_answered_per_second"] as? Int ?? 0) > 0, "\(report)")
            }

            let certificate = try #require(daemon.certificate)
            let nts = try await offCooperativePool {
                try ChildProcess.run(TestPaths.pendulum, [
                    "bench", "serve", "--nts", "--ca-file", certificate.certificatePath, "--json", "--rates", "1000", "--step-seconds", "0.5",
                    "--target", "pendulum-ntpd=127.0.0.1:\(daemon.ntpPort)@\(try #require(daemon.ntsKEPort))",
                ], timeout: 60)
            }
            #expect(nts.status == 0, "\(nts.stderr)")
            let ntsReports = try #require(try JSONSerialization.jsonObject(with: Data(nts.stdout.utf8)) as? [[String: Any]], "\(nts.stdout)")
            let step = try #require((ntsReports.first?["steps"] as? [[String: Any]])?.first)
            #expect((step["answered"] as? Int ?? 0) > 0, "\(step)")
            #expect(step["invalid"] as? Int == 0, "\(step)")
            // One reply in 16 has its authenticator checked with the S2C key.
            #expect((step["authenticated"] as? Int ?? 0) > 0, "\(step)")
        }
    }
}
