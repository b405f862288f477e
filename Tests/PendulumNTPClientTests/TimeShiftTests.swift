import PendulumDiscipline
import PendulumNTPClient
import PendulumTime
import Testing

/// After the first synchronisation nothing gets the clock stepped past the panic threshold:
/// not sources that all jump (a man in the middle, a bad NTS server), and not a local clock
/// moved by someone else beyond it. A move the shell sees (against CLOCK_BOOTTIME) is told
/// apart from sources moving.
@Suite struct TimeShiftTests {
    static let servers = (0..<3).map { SourceSpecification(host: "ntp\($0).test", port: 123) }

    /// Three sources answering once a second for `seconds`. Steps the core orders are taken
    /// by the harness's clock, so the servers' offsets shrink by them.
    func synchronise(_ harness: inout Harness, _ servers: inout [TestServer], seconds: Int) -> [ClientAction] {
        var actions: [ClientAction] = []
        for _ in 0..<seconds {
            for index in servers.indices {
                let done = harness.exchange(SourceID(index), with: &servers[index], address: ResolvedAddress(ipv4: 192, 0, 2, UInt8(index + 1), port: 123))
                take(World.steps(done), &harness, &servers)
                actions += done
            }
            harness.now = harness.now + .seconds(1)
        }
        return actions
    }

    func take(_ steps: [NTPDuration], _ harness: inout Harness, _ servers: inout [TestServer]) {
        for step in steps {
            harness.now = harness.now + step
            for index in servers.indices { servers[index].offset = servers[index].offset - step }
        }
    }

    func logs(_ actions: [ClientAction]) -> [String] {
        actions.compactMap { if case .log(_, let text) = $0 { text } else { nil } }
    }

    @Test(arguments: [3600.0, 10 * 365 * 86_400.0])
    func sourcesThatAllJumpAfterSynchronisationDoNotMoveTheClock(jump: Double) {
        var configuration = DisciplineConfiguration()
        configuration.pollLimits = 0...0
        var harness = Harness(Self.servers, configuration: configuration)
        _ = harness.core.start()
        var servers = [TestServer](repeating: TestServer(offset: .milliseconds(2)), count: 3)
        _ = synchronise(&harness, &servers, seconds: 10)
        #expect(harness.core.system.synchronized)
        for index in servers.indices { servers[index].offset = NTPDuration(approximateSeconds: jump) }
        let after = synchronise(&harness, &servers, seconds: 20)
        #expect(World.steps(after).isEmpty, "stepped by \(World.steps(after))")
        let refused = logs(after).filter { $0.contains("exceeds the panic threshold (1000.0 s): not steering") }
        #expect(!refused.isEmpty, "\(logs(after))")
        // Named: the two that had jumped when they first outvoted the third.
        #expect(refused.first?.contains("(sources ntp0.test:123, ntp1.test:123)") == true, "\(refused)")
        #expect(logs(after).contains { $0.contains("jumped by") && $0.contains("the local clock did not move") })
    }

    @Test func withThePanicThresholdConfiguredAwayTheClockFollowsAndSaysSo() {
        var configuration = DisciplineConfiguration()
        configuration.pollLimits = 0...0
        configuration.panicThreshold = nil
        var harness = Harness(Self.servers, configuration: configuration)
        _ = harness.core.start()
        var servers = [TestServer](repeating: TestServer(offset: .milliseconds(2)), count: 3)
        _ = synchronise(&harness, &servers, seconds: 10)
        for index in servers.indices { servers[index].offset = .seconds(3600) }
        let after = synchronise(&harness, &servers, seconds: 20)
        let steps = World.steps(after)
        #expect(steps.count == 1 && abs((steps.first?.seconds ?? 0) - 3600) < 0.01, "\(steps)")
        #expect(logs(after).contains { $0.hasPrefix("clock stepped by") && $0.contains("(sources ntp0.test:123, ntp1.test:123") }, "\(logs(after))")
    }

    @Test func aLocalMoveSeenByTheShellIsSteppedBackWithinThePanicThresholdAndRefusedBeyond() {
        var configuration = DisciplineConfiguration()
        configuration.pollLimits = 0...0
        var harness = Harness(Self.servers, configuration: configuration)
        _ = harness.core.start()
        var servers = [TestServer](repeating: TestServer(), count: 3)
        _ = synchronise(&harness, &servers, seconds: 10)

        // Someone sets the clock 5 s ahead: the servers now look 5 s behind.
        for index in servers.indices { servers[index].offset = .seconds(-5) }
        harness.now = harness.now + .seconds(5)
        let moved = harness.core.localClockMoved(by: .seconds(5), at: harness.now)
        #expect(logs(moved).contains("the local clock was moved by 5.0 s outside this daemon"))
        let back = World.steps(moved)
        #expect(back.count == 1 && abs((back.first?.seconds ?? 0) + 5) < 0.01, "\(moved)")
        take(back, &harness, &servers)

        // Then 1500 s: beyond the panic threshold, left alone.
        for index in servers.indices { servers[index].offset = .seconds(-1500) }
        harness.now = harness.now + .seconds(1500)
        let far = harness.core.localClockMoved(by: .seconds(1500), at: harness.now)
        #expect(World.steps(far).isEmpty)
        #expect(logs(far).contains { $0.contains("exceeds the panic threshold") }, "\(logs(far))")
        let later = synchronise(&harness, &servers, seconds: 10)
        #expect(World.steps(later).isEmpty)
    }

    @Test func aSourceTooFarFromItsReferenceIsNotSelected() {
        var configuration = DisciplineConfiguration()
        configuration.pollLimits = 0...0
        var discipline = ClockDiscipline(configuration: configuration)
        discipline.addSource(SourceID(0))
        let start = NTPTimestamp(seconds: 3_900_000_000, fraction: 0)
        for second in 0..<10 {
            var sample = Measurement(
                offset: .milliseconds(1), delay: .milliseconds(1), localTime: start + .seconds(Int64(second)), stratum: 2)
            sample.rootDispersion = NTPShort(roundingUp: .seconds(10))
            _ = discipline.handle(sample, from: SourceID(0))
        }
        #expect(!discipline.system.synchronized)
    }

    @Test func theWatchTellsSomeoneElsesMoveFromItsOwnStepsAndFromSlewing() {
        var watch = LocalClockWatch(maximumRate: 83_333e-6)
        let start = NTPTimestamp(seconds: 3_900_000_000, fraction: 0)
        #expect(watch.observe(clock: start, boottimeNanoseconds: 1_000_000_000) == nil, "the first reading is the baseline")
        // Slewing at the fastest rate for a second is not a move.
        #expect(watch.observe(clock: start + NTPDuration(approximateSeconds: 1.08), boottimeNanoseconds: 2_000_000_000) == nil)
        // Our own step of 2 s is not one either.
        watch.stepped(by: 2)
        #expect(watch.observe(clock: start + NTPDuration(approximateSeconds: 4.08), boottimeNanoseconds: 3_000_000_000) == nil)
        // Someone else's 1 s back is.
        let moved = watch.observe(clock: start + NTPDuration(approximateSeconds: 4.08), boottimeNanoseconds: 4_000_000_000)
        #expect(moved.map { abs($0 + 1) < 1e-6 } == true, "\(String(describing: moved))")
        // Boottime that does not advance (a reading out of order) says nothing.
        #expect(watch.observe(clock: start + .seconds(100), boottimeNanoseconds: 4_000_000_000) == nil)
    }
}
