import PendulumIO
import PendulumTime
import Testing
@testable import Pendulum

/// What `DisciplinedClock` refuses at once, and how it reports servers it cannot reach. Against
/// real NTS servers it is tested in PendulumInteropTests.
struct DisciplinedClockTests {
    @Test func refusesNoServersBadPollingDuplicatesAndAnNTPPortForNTS() {
        #expect(throws: DisciplinedClockError.noServers) { try DisciplinedClock(servers: []) }
        let cases: [([TimeServer], DisciplinedClockOptions, String)] = [
            ([.nts("localhost")], DisciplinedClockOptions(pollLog2: 0...18), "pollLog2 must lie within -4...17"),
            ([.nts("localhost")], DisciplinedClockOptions(pollLog2: -5...4), "pollLog2 must lie within -4...17"),
            ([.nts("localhost")], DisciplinedClockOptions(minimumAgreeing: 0), "minimumAgreeing must be at least 1"),
            ([.nts("localhost"), .nts("localhost")], DisciplinedClockOptions(), "nts://localhost:4460 is listed twice"),
            ([.nts("localhost", port: 123)], DisciplinedClockOptions(), "nts://localhost:4460: an NTS server's NTP port is the one its key exchange names"),
        ]
        for (servers, options, reason) in cases {
            #expect(throws: DisciplinedClockError.invalidOptions(reason)) { try DisciplinedClock(servers: servers, options: options) }
        }
        #expect(DisciplinedClockError.invalidOptions("x").code == "invalid-options")
    }

    @Test func anUnreachableServerGivesNoTimeAndSaysWhy() async throws {
        // A UDP port nobody listens on: loopback answers with ICMP port unreachable.
        let address = try #require(SocketAddress(ip: "127.0.0.1", port: 0))
        let port: UInt16 = try {
            let socket = try TimestampedUDPSocket(family: address.family)  // closed when released
            try socket.bind(to: address)
            return try socket.localAddress().port
        }()
        let clock = try DisciplinedClock(servers: [.unauthenticated("127.0.0.1", port: port)], options: DisciplinedClockOptions(pollLog2: 0...0))
        defer { clock.stop() }
        #expect(clock.now().errorBound == nil && !clock.now().synchronized && clock.now().interval == nil)
        do {
            let reading = try await clock.waitUntilSynchronized(timeout: .seconds(3))
            Issue.record("synchronised to nobody: \(reading)")
        } catch {
            guard case .notSynchronized(let after, let sources) = error else { Issue.record("\(error)"); return }
            #expect(after == .seconds(3))
            #expect(sources.count == 1 && sources[0].reachable == false && sources[0].lastError != nil, "\(sources)")
            #expect(error.code == "not-synchronized" && error.description.contains("ntp://127.0.0.1:\(port) unreachable"), "\(error)")
        }
        clock.stop()
        do {
            _ = try await clock.waitUntilSynchronized(timeout: .seconds(1))
            Issue.record("a stopped clock synchronised")
        } catch {
            #expect(error == .stopped)
        }
    }
}
