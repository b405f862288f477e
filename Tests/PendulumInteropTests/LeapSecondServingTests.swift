import Foundation
import Testing

/// A server with no sources (`local-stratum`) announces the published leap seconds from a
/// leap-seconds.list on the day they happen, and a damaged list is refused at start. The
/// overlay clock is started on the day in question; the system clock is never touched.
extension NTPDaemonInteropTests {
    @Suite(.serialized) struct LeapSecondServingTests {
        static let fixtures = VMScenario.repository.appendingPathComponent("scripts/vm/fixtures")

        /// How far the overlay clock must start ahead of the system clock to read `unixSeconds`.
        static func offset(to unixSeconds: Int64) -> Int64 { unixSeconds - Int64(Date().timeIntervalSince1970) }

        func leapQueried(at unixSeconds: Int64, list: String) async throws -> String {
            let daemon = try await offCooperativePool {
                try NTPDaemonProcess(nts: false, localStratum: 1, extraLines: [
                    "[clock]", "kind = \"overlay\"", "initial-offset-seconds = \(Self.offset(to: unixSeconds))",
                    "leap-seconds-file = \"\(list)\"",
                ])
            }
            defer { daemon.remove() }
            let query = try await offCooperativePool {
                try ChildProcess.run(TestPaths.pendulum, ["query", "--samples", "1", "--port", "\(daemon.ntpPort)", "127.0.0.1"], timeout: 10)
            }
            #expect(query.status == 0, "\(query.stderr)")
            return query.stdout.split(separator: "\n").first { $0.hasPrefix("leap") }.map(String.init) ?? query.stdout
        }

        @Test func theLastDayOf2016CarriesIERSsLeapSecond() async throws {
            // 2016-12-31 23:00 UTC, and the day before, from tzdata's own list.
            let insert = try await leapQueried(at: 1_483_225_200, list: "/usr/share/zoneinfo/leap-seconds.list")
            #expect(insert == "leap             insert second")
            let before = try await leapQueried(at: 1_483_225_200 - 86_400, list: "/usr/share/zoneinfo/leap-seconds.list")
            #expect(before == "leap             none")
        }

        @Test func aDeletionIsAnnouncedToo() async throws {
            // 2027-06-30 12:00 UTC with the fictional list that deletes a second that night.
            let delete = try await leapQueried(at: 1_814_356_800, list: Self.fixtures.appendingPathComponent("leap-seconds-delete-2027.list").path)
            #expect(delete == "leap             delete second")
        }

        @Test func aDamagedListIsRefusedAtStart() async throws {
            let directory = try TestPaths.temporaryDirectory("leap-damaged")
            defer { try? FileManager.default.removeItem(at: directory) }
            let original = try String(contentsOf: Self.fixtures.appendingPathComponent("leap-seconds-insert-2027.list"), encoding: .utf8)
            // One entry changed, the hash left as it was: what a bad edit or a bit flip leaves.
            let damaged = original.replacingOccurrences(of: "4023388800\t38", with: "4023388800\t36")
            #expect(damaged != original)
            let path = directory.appendingPathComponent("leap-seconds.list").path
            try damaged.write(toFile: path, atomically: true, encoding: .utf8)
            let config = directory.appendingPathComponent("ntpd.toml").path
            try """
                [[server]]
                listen = "127.0.0.1:\(freeUDPPort())"
                [synchronization]
                local-stratum = 1
                [clock]
                kind = "overlay"
                leap-seconds-file = "\(path)"

                """.write(toFile: config, atomically: true, encoding: .utf8)
            let result = try await offCooperativePool { try ChildProcess.run(TestPaths.pendulumNTPD, ["--config", config], timeout: 10) }
            #expect(result.status == 1)
            #expect(result.stderr.contains("leap-seconds-file: \(path): the SHA-1 in the \"#h\" line does not match the list"), "\(result.stderr)")
        }
    }
}
