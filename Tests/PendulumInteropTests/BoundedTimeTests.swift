import Foundation
import Testing

/// Bounded time as a program outside the daemon gets it: pendulum-ntpd (overlay clock started
/// 0.25 s and 30 ppm wrong) synchronises to chronyd -x and publishes its error bound; `pendulum
/// now --bounds --json` reads the segment once a second. On one machine the system clock is the
/// truth, so every reading's [earliest, latest] must contain the system time of that moment,
/// from the first published bound on; a stopped daemon must not leave a bound behind.
extension NTPDaemonInteropTests {
    @Suite(.serialized) struct BoundedTimeTests {
        /// The command's JSON, times kept as exact nanoseconds (a Double holds them to 0.2 µs,
        /// too coarse against bounds of a few microseconds).
        struct Reading: Sendable {
            var earliest: Int64
            var latest: Int64
            var clock: Int64
            var system: Int64
            var bound: Int64
            var synchronized: Bool

            init?(json: String) {
                func nanoseconds(_ key: String) -> Int64? {
                    guard let range = json.range(of: "\"\(key)\":") else { return nil }
                    let digits = json[range.upperBound...].prefix { $0.isNumber || $0 == "." || $0 == "-" }
                    let parts = digits.split(separator: ".", omittingEmptySubsequences: false)
                    guard parts.count == 2, parts[1].count == 9, let whole = Int64(parts[0]), let fraction = Int64(parts[1]), whole >= 0 else { return nil }
                    return whole * 1_000_000_000 + fraction
                }
                guard let earliest = nanoseconds("earliest_unix_seconds"), let latest = nanoseconds("latest_unix_seconds"),
                    let clock = nanoseconds("clock_unix_seconds"), let system = nanoseconds("system_unix_seconds"),
                    let bound = nanoseconds("bound_seconds")
                else { return nil }
                (self.earliest, self.latest, self.clock, self.system, self.bound) = (earliest, latest, clock, system, bound)
                synchronized = json.contains("\"synchronized\":true")
            }
        }

        @Test func everyPublishedIntervalContainsTrueTimeAndAStoppedDaemonPublishesNone() async throws {
            let chrony = try await offCooperativePool { try ChronyServer(stratum: 2) }
            defer { chrony.stop() }
            let directory = try TestPaths.temporaryDirectory("bounds")
            defer { try? FileManager.default.removeItem(at: directory) }
            let boundsPath = directory.appendingPathComponent("bounds").path
            let daemon = try await offCooperativePool {
                try NTPDaemonProcess(nts: false, localStratum: nil, extraLines: [
                    "[clock]", "kind = \"overlay\"", "initial-offset-seconds = 0.25", "initial-frequency-ppm = 30",
                    "[[source]]", "mode = \"server\"", "address = \"127.0.0.1:\(chrony.port)\"", "minpoll = 0", "maxpoll = 2",
                    "[observability]", "observation-path = \"\(directory.appendingPathComponent("observe").path)\"",
                    "bounds-path = \"\(boundsPath)\"",
                ])
            }
            defer { daemon.remove() }
            let (readings, refusals) = try await offCooperativePool {
                var readings: [(before: Double, after: Double, reading: Reading)] = []
                var refusals: [String] = []
                let start = Date()
                while Date().timeIntervalSince(start) < 40 {
                    let before = Date().timeIntervalSince1970
                    let result = try ChildProcess.run(TestPaths.pendulum, ["now", "--bounds", "--json", "--path", boundsPath], timeout: 10)
                    let after = Date().timeIntervalSince1970
                    if result.status == 0, let reading = Reading(json: result.stdout) {
                        readings.append((before, after, reading))
                    } else {
                        refusals.append(result.stderr)
                    }
                    Thread.sleep(forTimeInterval: 1)
                }
                return (readings, refusals)
            }
            // Before the first synchronisation there is no bound to give, and it says so.
            #expect(refusals.allSatisfy { $0.contains("has not published bounds yet") }, "\(refusals)")
            #expect(readings.count >= 30, "only \(readings.count) readings; refused: \(refusals)\n\(daemon.log)")
            for (before, after, reading) in readings {
                // The reader took CLOCK_REALTIME (the truth here) at the instant it computed the
                // interval; it must lie inside. Doubles hold these to about 0.2 µs.
                let truth = reading.system
                let seconds = Double(truth) / 1e9
                #expect(seconds >= before - 0.001 && seconds <= after + 0.001, "system time \(seconds) not within the command's run \(before)…\(after)")
                #expect(reading.earliest <= truth && truth <= reading.latest,
                        "true time \(truth) ns outside [\(reading.earliest), \(reading.latest)], clock \(reading.clock)")
                #expect(reading.latest - reading.clock == reading.bound && reading.clock - reading.earliest == reading.bound)
                // The interval is centred on the overlay clock, which is not the system clock.
                #expect(reading.clock != truth)
                #expect(reading.bound > 0)
                #expect(reading.synchronized)
            }
            let widths = readings.suffix(10).map { Double($0.reading.bound) / 1e3 }
            let errors = readings.suffix(10).map { Double($0.reading.clock - $0.reading.system) / 1e3 }
            // Honest but not useless: polled at 1–4 s over loopback the last bounds are well
            // under a millisecond.
            #expect((widths.max() ?? 1e9) < 1000, "bounds \(widths) µs")
            print("bounded time: \(readings.count) readings, all containing true time; last errors \(errors.map { String(format: "%.2f", $0) }) µs, bounds \(widths.map { String(format: "%.1f", $0) }) µs")

            _ = daemon.stop()
            let stopped = try ChildProcess.run(TestPaths.pendulum, ["now", "--bounds", "--path", boundsPath], timeout: 10)
            #expect(stopped.status != 0)
            #expect(stopped.stderr.contains("has not published bounds yet"), "\(stopped.stderr)")
        }
    }
}
