import Foundation
import Testing

/// A server that smears: one pendulum-ntpd, its overlay clock started just before the
/// (fictional) leap second at the end of 2027-06-30, serving on two listeners, one with
/// `leap-smear = "linear"` over a one-minute window, one without. chronyd is the client of
/// both: long-running ones (`-x`) report what each listener announces, and one-shot
/// measurements (`chronyd -x -Q`, which prints the offset and changes nothing) follow the
/// served time through the leap. The system clock is never touched.
extension NTPDaemonInteropTests {
    @Suite(.serialized) struct LeapSmearAgainstChronyTests {
        /// 2027-07-01T00:00:00Z, where leap-seconds-insert-2027.list inserts a second.
        static let midnight: Int64 = 1_814_400_000
        static let window: Int64 = 60

        struct Sample {
            /// Host time at the middle of the measurement.
            var hostTime: Double
            /// What chronyd measured less the overlay's fixed offset from the host: the
            /// correction the server applies to its own clock's time (the leap included).
            var smeared: Double
            var plain: Double
        }

        /// chronyd -x -Q against one listener: the server's offset from this machine's clock.
        static func measuredOffset(port: UInt16, directory: URL) throws -> Double {
            let chronyd = try TestPaths.requireProgram("chronyd", package: "chrony")
            let config = directory.appendingPathComponent("query-\(port).conf").path
            try [
                "server 127.0.0.1 port \(port) iburst minpoll -6 maxpoll -6", "port 0", "cmdport 0",
                "pidfile \(directory.path)/query-\(port).pid",
            ].joined(separator: "\n").appending("\n").write(toFile: config, atomically: true, encoding: .utf8)
            let result = try ChildProcess.run(chronyd, ["-x", "-Q", "-u", "root", "-f", config], timeout: 10)
            let text = result.stdout + result.stderr
            guard let range = text.range(of: #"wrong by -?[0-9.]+ seconds"#, options: .regularExpression),
                let value = Double(text[range].split(separator: " ")[2])
            else { throw MeasurementFailed(output: text) }
            return value
        }

        struct MeasurementFailed: Error, CustomStringConvertible {
            var output: String
            var description: String { "chronyd -Q printed no offset: \(output)" }
        }

        @Test func chronySeesASlowClockWhereTheUnsmearedListenerRepeatsASecond() async throws {
            let plainPort = freeUDPPort()
            let start = Self.midnight - Self.window / 2 - 4
            let offset = start - Int64(Date().timeIntervalSince1970)
            let list = LeapSecondServingTests.fixtures.appendingPathComponent("leap-seconds-insert-2027.list").path
            let daemon = try await offCooperativePool {
                try NTPDaemonProcess(
                    nts: false, localStratum: 1, serverLines: ["leap-smear = \"linear\"", "leap-smear-window-seconds = \(Self.window)"],
                    extraListen: ["127.0.0.1:\(plainPort)"],
                    extraLines: ["[clock]", "kind = \"overlay\"", "initial-offset-seconds = \(offset)", "leap-seconds-file = \"\(list)\""]
                )
            }
            defer { daemon.remove() }
            let smearedClient = try ChronyClient(serverPort: daemon.ntpPort)
            defer { smearedClient.stop() }
            let plainClient = try ChronyClient(serverPort: plainPort)
            defer { plainClient.stop() }
            let directory = try TestPaths.temporaryDirectory("leap-smear")
            defer { try? FileManager.default.removeItem(at: directory) }

            var samples: [Sample] = []
            var announced: (smeared: String, plain: String)?
            let end = Double(Self.midnight + Self.window / 2 + 4 - offset)
            while Date().timeIntervalSince1970 < end {
                let before = Date().timeIntervalSince1970
                let (smeared, plain) = try await offCooperativePool {
                    (try Self.measuredOffset(port: daemon.ntpPort, directory: directory), try Self.measuredOffset(port: plainPort, directory: directory))
                }
                let after = Date().timeIntervalSince1970
                samples.append(Sample(hostTime: (before + after) / 2, smeared: smeared - Double(offset), plain: plain - Double(offset)))
                // What each listener announces, asked of the long-running clients before the leap.
                if announced == nil, after + Double(offset) > Double(Self.midnight - 20) {
                    announced = try await offCooperativePool { (try smearedClient.ntpData(), try plainClient.ntpData()) }
                }
                try await Task.sleep(for: .milliseconds(300))
            }
            let log = daemon.stop().log
            #expect(log.contains("leap smear: the leap second at 2027-07-01T00:00:00.000000000Z (inserted) is served spread around it"), "\(log)")

            // chronyd takes the leap from the plain listener and is told of none by the smearing one.
            let leapLine = { (text: String) in text.split(separator: "\n").first { $0.hasPrefix("Leap status") }.map { String($0) } ?? text }
            #expect(announced.map { leapLine($0.smeared) } == "Leap status     : Normal")
            #expect(announced.map { leapLine($0.plain) } == "Leap status     : Insert second")

            // The plain listener is UTC: one step back by a second, at the leap.
            let host = { (sample: Sample) in sample.hostTime + Double(offset) - Double(Self.midnight) }
            #expect(samples.count > 40)
            for sample in samples where abs(host(sample)) > 0.5 {
                let expected = host(sample) < 0 ? 0.0 : -1.0
                #expect(abs(sample.plain - expected) < 0.001, "plain at \(host(sample)) s: \(sample.plain)")
            }
            // The smearing one never jumps: it falls from 0 to −1 s at one rate (1/61 s per
            // second: the window is 61 SI seconds long), through the leap; it is exact before
            // and after the window.
            for sample in samples where abs(host(sample)) > Double(Self.window) / 2 + 1.5 {
                let expected = host(sample) < 0 ? 0.0 : -1.0
                #expect(abs(sample.smeared - expected) < 0.001, "smeared at \(host(sample)) s: \(sample.smeared)")
            }
            for (earlier, later) in zip(samples, samples.dropFirst()) {
                let change = later.smeared - earlier.smeared
                let allowed = (later.hostTime - earlier.hostTime) / Double(Self.window + 1) + 0.005
                #expect(change <= 0.001 && change >= -allowed, "smeared from \(host(earlier)) to \(host(later)) s: \(earlier.smeared) → \(later.smeared)")
            }
            let inside = samples.filter { abs(host($0)) < Double(Self.window) / 2 - 1.5 }
            #expect(inside.count > 20)
            let slope = Self.slope(inside.map { ($0.hostTime, $0.smeared) })
            #expect(abs(slope + 1 / Double(Self.window + 1)) < 0.0005, "slope \(slope) s/s")
            // Where it should be: the share of the window's 61 SI seconds elapsed, half a second
            // at the middle of the leap second. A sample's time is known to ±0.1 s (a chronyd
            // run), which is ±1.6 ms of smear.
            for sample in inside {
                let expected = -(host(sample) + Double(Self.window / 2)) / Double(Self.window + 1)
                #expect(abs(sample.smeared - expected) < 0.004, "smeared at \(host(sample)) s: \(sample.smeared), expected \(expected)")
            }
        }

        /// Least-squares slope of y against x.
        static func slope(_ points: [(Double, Double)]) -> Double {
            let meanX = points.map(\.0).reduce(0, +) / Double(points.count)
            let meanY = points.map(\.1).reduce(0, +) / Double(points.count)
            let covariance = points.map { ($0.0 - meanX) * ($0.1 - meanY) }.reduce(0, +)
            let variance = points.map { ($0.0 - meanX) * ($0.0 - meanX) }.reduce(0, +)
            return covariance / variance
        }
    }
}
