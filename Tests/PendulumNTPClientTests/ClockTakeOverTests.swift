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
        var server = TestServer(offset: .milliseconds(3))
        for _ in 0..<10 {
            _ = harness.exchange(id, with: &server)
            harness.now = harness.now + .seconds(1)
        }
        #expect(harness.core.system.synchronized)
        let estimate = try #require(harness.core.frequencyEstimate)
        #expect(abs(estimate.frequency) < 100e-6 && estimate.uncertainty > 0)

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
        // The frequency in force is still the best estimate there is, for the drift file.
        #expect(harness.core.frequencyEstimate == estimate)
    }
}
