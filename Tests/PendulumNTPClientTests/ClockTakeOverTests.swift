import PendulumDiscipline
import PendulumNTPClient
import PendulumTime
import Testing

/// What the core does about the clock beyond answers: the frequency it starts from (a drift
/// file's), the frequency a drift file should keep, and telling the clock it is no longer
/// synchronised when every source has gone quiet.
@Suite struct ClockTakeOverTests {
    static let server = SourceSpecification(host: "ntp.test", port: 123)

    @Test func aDriftFilesFrequencyIsInForceBeforeTheFirstAnswer() {
        var configuration = DisciplineConfiguration()
        configuration.initialFrequency = -7.1e-6
        var core = NTPClientCore(sources: [Self.server], configuration: configuration)
        let actions = core.start()
        #expect(actions.first == .steer(.setFrequency(-7.1e-6)))
        #expect(core.frequencyEstimate == nil, "nothing to keep before the first synchronisation")
        var plain = NTPClientCore(sources: [Self.server])
        #expect(!plain.start().contains { if case .steer = $0 { true } else { false } })
    }

    @Test func silenceFromEverySourceEndsSynchronisation() throws {
        var configuration = DisciplineConfiguration()
        configuration.pollLimits = 0...0
        var harness = Harness([Self.server], configuration: configuration)
        _ = harness.core.start()
        let id = SourceID(0)
        // Under the start-up step threshold: the harness's clock does not take steps.
        var server = TestServer(offset: .microseconds(500))
        for _ in 0..<10 {
            _ = harness.exchange(id, with: &server)
            harness.now = harness.now + .seconds(1)
        }
        #expect(harness.core.system.synchronized)
        let estimate = try #require(harness.core.frequencyEstimate)
        // The harness's clock does not take the frequency it is given, so the offset never goes
        // and the correction climbs towards the limit: only its being there and bounded counts.
        #expect(abs(estimate.frequency) <= 500e-6 && estimate.uncertainty > 0)

        // Polls go out and nothing comes back (the deadline passes each time).
        var lost: [ClientAction] = []
        for _ in 0..<12 where lost.isEmpty {
            let polled = harness.poll(id)
            harness.now = harness.now + .seconds(1)
            let missed = harness.core.timerFired(.deadline(id), at: harness.now)
            lost = (polled + missed).filter { if case .setSynchronized(false, _, _) = $0 { true } else { false } }
        }
        #expect(!lost.isEmpty, "still synchronised after 12 unanswered polls")
        #expect(!harness.core.system.synchronized)
        // The kernel is told the bound programs read, grown since the last synchronisation.
        if case .setSynchronized(false, let maximumError, _)? = lost.first {
            let published = try #require(harness.core.errorBound(at: harness.now))
            #expect(!published.synchronized)
            // Told at most one poll (1 s) before now: within a second's growth of it.
            #expect(
                maximumError.seconds <= published.maximumError + 1e-9 && maximumError.seconds >= published.maximumError - 1.01 * published.maximumDrift,
                "kernel \(maximumError), published now \(published.maximumError), drift \(published.maximumDrift)")
        }
        // The frequency in force is still the best estimate there is, for the drift file.
        #expect(harness.core.frequencyEstimate == estimate)
    }

    /// With a leap second due tonight (from a leap-seconds.list), the core tells the clock on
    /// the day, with TAI − UTC, and asks to be woken just after midnight to withdraw it, rather
    /// than leave it in the kernel until a poll many minutes later.
    @Test func aLeapSecondIsAnnouncedOnTheDayAndWithdrawnJustAfterIt() throws {
        let list = try LeapSecondsList(parsing: "#$ 3692217000\n#@ 3900000000\n3644697600 36\n3692217600 37\n")
        var configuration = DisciplineConfiguration()
        configuration.pollLimits = 4...4
        configuration.leapSeconds = list.table
        var harness = Harness([Self.server], configuration: configuration)
        harness.now = NTPTimestamp(seconds: 3_692_217_600 - 20, fraction: 0)  // 2016-12-31 23:59:40
        _ = harness.core.start()
        var server = TestServer()
        let id = SourceID(0)
        var actions: [ClientAction] = []
        for _ in 0..<3 {
            actions += harness.exchange(id, with: &server)
            harness.now = harness.now + .seconds(1)
        }
        #expect(actions.contains(.steer(.setLeap(.insertSecond))))
        #expect(actions.contains(.steer(.setTAIOffset(36))))
        let wake = try #require(World.timer(.leapReview, in: actions))
        // Woken 3 s after midnight (20 s after the first sample, which came at 23:59:40.0001).
        #expect(abs(wake.seconds - 23) < 0.01, "\(wake.seconds)")
        harness.now = NTPTimestamp(seconds: 3_692_217_600 + 3, fraction: 1)
        let after = harness.core.timerFired(.leapReview, at: harness.now)
        #expect(after.contains(.steer(.setLeap(.none))), "\(after)")
        #expect(after.contains(.steer(.setTAIOffset(37))))
    }
}
