import PendulumTime
import Testing

@testable import PendulumDiscipline

/// Per-source poll limits (minpoll/maxpoll/iburst) and what the discipline does with a fresh
/// start: the actions it returns, in the order a daemon applies them.
@Suite struct PollingAndStartupTests {
    let start = NTPTimestamp(seconds: 3_900_000_000, fraction: 0)

    func measurement(offset: Double, at seconds: Double, delay: Double = 0.0002) -> Measurement {
        Measurement(
            offset: NTPDuration(approximateSeconds: offset), delay: NTPDuration(approximateSeconds: delay),
            localTime: start + NTPDuration(approximateSeconds: seconds), stratum: 2)
    }

    @Test func aBurstOfEightQuickAnswersThenTheSourcesMinpoll() {
        var discipline = ClockDiscipline()
        let id = SourceID(1)
        discipline.addSource(id, polling: PollSettings(limits: 6...9))
        var intervals: [Double] = []
        for poll in 0..<10 {
            intervals.append(discipline.nextPollInterval(for: id).seconds)
            discipline.pollSent(to: id)
            _ = discipline.handle(measurement(offset: 0, at: Double(poll)), from: id)
        }
        #expect(intervals == Array(repeating: 1, count: 8) + [64, 64])
    }

    /// The start-up burst wants eight answers: polls lost to the network are made up for, up
    /// to sixteen polls, and an answer with nothing new to measure counts as an answer.
    @Test func theStartupBurstCountsAnswersNotPolls() {
        var discipline = ClockDiscipline()
        let id = SourceID(1)
        discipline.addSource(id, polling: PollSettings(limits: 6...9))
        var intervals: [Double] = []
        for poll in 0..<14 {
            intervals.append(discipline.nextPollInterval(for: id).seconds)
            discipline.pollSent(to: id)
            switch poll {
            case 0..<3: _ = discipline.handle(measurement(offset: 0, at: Double(poll)), from: id)
            case 3: discipline.answeredWithoutSample(by: id)
            case 8..<12: _ = discipline.handle(measurement(offset: 0, at: Double(poll)), from: id)
            default: break  // lost
            }
        }
        #expect(intervals == Array(repeating: 1, count: 12) + [64, 64])

        var silent = ClockDiscipline()
        silent.addSource(id, polling: PollSettings(limits: 6...9))
        intervals = []
        for _ in 0..<18 {
            intervals.append(silent.nextPollInterval(for: id).seconds)
            silent.pollSent(to: id)
        }
        #expect(intervals == Array(repeating: 1, count: 16) + [64, 64])
    }

    @Test func withBurstEveryPollOfAnAnsweringSourceIsFourRequests() {
        var discipline = ClockDiscipline()
        let id = SourceID(1)
        discipline.addSource(id, polling: PollSettings(limits: 6...6, initialBurst: false, burstEachPoll: true))
        var intervals: [Double] = []
        // Unanswered: one request per poll.
        for _ in 0..<2 {
            intervals.append(discipline.nextPollInterval(for: id).seconds)
            discipline.pollSent(to: id)
        }
        _ = discipline.handle(measurement(offset: 0, at: 0), from: id)
        for index in 0..<8 {
            intervals.append(discipline.nextPollInterval(for: id).seconds)
            discipline.pollSent(to: id)
            _ = discipline.handle(measurement(offset: 0, at: Double(index + 1)), from: id)
        }
        #expect(intervals == [64, 64, 64, 1, 1, 1, 64, 1, 1, 1])
        // Polls too short for a burst to fit in a quarter of them stay single.
        var fast = ClockDiscipline()
        fast.addSource(id, polling: PollSettings(limits: 3...3, initialBurst: false, burstEachPoll: true))
        _ = fast.handle(measurement(offset: 0, at: 0), from: id)
        fast.pollSent(to: id)
        #expect(fast.nextPollInterval(for: id).seconds == 8)
    }

    @Test func atStartTheFirstAnswerIsNotFollowedBeforeTheOthersHadTheirChance() {
        var discipline = ClockDiscipline()
        let ids = (0..<4).map { SourceID($0) }
        for id in ids { discipline.addSource(id) }
        // The falseticker, 1 s off, happens to answer first.
        #expect(discipline.handle(measurement(offset: 1.0, at: 0), from: ids[3]).actions.isEmpty)
        #expect(discipline.handle(measurement(offset: 0.2, at: 0.01), from: ids[0]).actions.isEmpty)
        #expect(discipline.handle(measurement(offset: 0.2001, at: 0.02), from: ids[1]).actions.isEmpty)
        let update = discipline.handle(measurement(offset: 0.2002, at: 0.03), from: ids[2])
        guard case .step(let amount)? = update.actions.first else {
            Issue.record("no step once all four answered: \(update.actions)")
            return
        }
        #expect(abs(amount.seconds - 0.2) < 0.001)
        #expect(discipline.system.primary != ids[3])
        // A source that never answers is waited for only a moment.
        var patient = ClockDiscipline()
        for id in ids.prefix(2) { patient.addSource(id) }
        #expect(patient.handle(measurement(offset: 0.3, at: 0), from: ids[0]).actions.isEmpty)
        #expect(!patient.handle(measurement(offset: 0.3, at: 2.5), from: ids[0]).actions.isEmpty)
    }

    @Test func withoutIburstTheFirstPollsAreAtMinpoll() {
        var discipline = ClockDiscipline()
        let id = SourceID(1)
        #expect(discipline.addSource(id, polling: PollSettings(limits: 5...7, initialBurst: false)).seconds == 32)
    }

    @Test func subSecondPollingIsExact() {
        var discipline = ClockDiscipline()
        let id = SourceID(1)
        discipline.addSource(id, polling: PollSettings(limits: -2 ... -2))
        discipline.pollSent(to: id)
        #expect(discipline.nextPollInterval(for: id) == .milliseconds(250))
        let update = discipline.handle(measurement(offset: 0, at: 0), from: id)
        #expect(update.nextPollInterval == .milliseconds(250))
        #expect(discipline.pollLog2(for: id) == -2)
    }

    @Test func oneSecondPollingStaysAtOneSecond() {
        var discipline = ClockDiscipline()
        let id = SourceID(1)
        discipline.addSource(id, polling: PollSettings(limits: 0...0))
        var last = NTPDuration.zero
        for second in 0..<40 {
            discipline.pollSent(to: id)
            last = discipline.handle(measurement(offset: 0, at: Double(second)), from: id).nextPollInterval
        }
        #expect(last == .seconds(1))
    }

    /// A clock half a second wrong is stepped on the first answer (one source is enough when
    /// one is all that must agree), and the source keeps counting afterwards: a lost second
    /// poll must not cost the synchronisation.
    @Test func theFirstAnswerStepsAndTheSourceKeepsCounting() {
        var configuration = DisciplineConfiguration()
        configuration.minimumAgreeingSources = 1
        var discipline = ClockDiscipline(configuration: configuration)
        let id = SourceID(1)
        discipline.addSource(id)
        discipline.pollSent(to: id)
        let first = discipline.handle(measurement(offset: 0.5, at: 0), from: id)
        guard case .step(let amount)? = first.actions.first else {
            Issue.record("expected a step first, got \(first.actions)")
            return
        }
        #expect(abs(amount.seconds - 0.5) < 1e-6)
        #expect(first.events.contains(.synchronized))
        discipline.pollSent(to: id)  // lost
        discipline.pollSent(to: id)
        let third = discipline.handle(measurement(offset: 0.00001, at: 2), from: id)
        #expect(!third.events.contains(.lostSynchronization))
        #expect(discipline.system.synchronized)
    }

    /// After the first synchronisation a newcomer (a pool's replacement) needs three samples
    /// before it may influence the clock.
    @Test func aSourceAddedLaterNeedsThreeSamples() {
        var configuration = DisciplineConfiguration()
        configuration.minimumAgreeingSources = 1
        var discipline = ClockDiscipline(configuration: configuration)
        let old = SourceID(1)
        let newcomer = SourceID(2)
        discipline.addSource(old)
        for second in 0..<10 {
            discipline.pollSent(to: old)
            _ = discipline.handle(measurement(offset: 0, at: Double(second)), from: old)
        }
        discipline.addSource(newcomer)
        for second in 10..<12 {
            discipline.pollSent(to: newcomer)
            _ = discipline.handle(measurement(offset: 0, at: Double(second)), from: newcomer)
            #expect(!discipline.system.survivors.contains(newcomer))
        }
        discipline.pollSent(to: newcomer)
        _ = discipline.handle(measurement(offset: 0, at: 12), from: newcomer)
        #expect(discipline.system.survivors.contains(newcomer))
    }

    /// The offset is removed within two poll intervals, not eight: after a 1 ms residual at a
    /// 16 s poll the frequency correction carries 1 ms / 32 s on top of the frequency estimate.
    @Test func anOffsetIsSlewedAwayWithinTwoPollIntervals() {
        var configuration = DisciplineConfiguration()
        configuration.minimumAgreeingSources = 1
        configuration.startupStepThreshold = nil
        configuration.burstCount = 0
        var discipline = ClockDiscipline(configuration: configuration)
        let id = SourceID(1)
        discipline.addSource(id, polling: PollSettings(limits: 4...4, initialBurst: false))
        discipline.pollSent(to: id)
        let update = discipline.handle(measurement(offset: 0.001, at: 0), from: id)
        guard case .setFrequency(let frequency)? = update.actions.last else {
            Issue.record("expected a frequency, got \(update.actions)")
            return
        }
        #expect(abs(frequency - 0.001 / 32) < 1e-9)
    }

    /// During the start-up burst an offset left by the step (the first exchange was one-sided)
    /// is slewed within two burst intervals, not over the 4 s floor of regular polling; once
    /// the burst is over the floor is back.
    @Test func theStartupBurstSlewsWithinTwoBurstIntervals() {
        func slewTime(afterAnswers answers: Int) -> Double? {
            var discipline = ClockDiscipline()
            let id = SourceID(1)
            discipline.addSource(id, polling: PollSettings(limits: 0...0))
            for poll in 0..<answers {
                discipline.pollSent(to: id)
                _ = discipline.handle(measurement(offset: 0, at: Double(poll)), from: id)
            }
            discipline.pollSent(to: id)
            return discipline.handle(measurement(offset: 0.0002, at: Double(answers)), from: id).slewDuration?.seconds
        }
        // Answers 1-7 of the eight are in the burst; the eighth ends it.
        #expect(slewTime(afterAnswers: 3) == 2)
        #expect(slewTime(afterAnswers: 6) == 2)
        #expect(slewTime(afterAnswers: 7) == 4)
    }
}

/// An interleaved answer completes the previous exchange, one poll old: the discipline filters
/// the sample at its own time and steers for the present. A clock 20 ppm fast, polled every
/// 16 s with such samples, must still be brought to within a microsecond and held there.
@Suite struct DelayedSampleTests {
    @Test func samplesOnePollOldStillConvergeWhenTheirTimeIsGiven() {
        var configuration = DisciplineConfiguration()
        configuration.minimumAgreeingSources = 1
        var discipline = ClockDiscipline(configuration: configuration)
        let id = SourceID(1)
        discipline.addSource(id, polling: PollSettings(limits: 4...4, initialBurst: false))
        let base = NTPTimestamp(seconds: 3_900_000_000, fraction: 0)
        var offset = 0.002  // local − true
        let rateError = 20e-6
        var correction = 0.0
        var pending: (offset: Double, local: Double)?
        var worstLate = 0.0
        for poll in 0..<200 {
            let trueTime = Double(poll) * 16
            let local = trueTime + offset
            // This poll's exchange happened before anything below is applied.
            let current = (offset: offset, local: local)
            var stepped = false
            if let sample = pending {
                let measurement = Measurement(
                    offset: NTPDuration(approximateSeconds: -sample.offset), delay: .microseconds(100),
                    localTime: base + NTPDuration(approximateSeconds: sample.local), stratum: 2)
                discipline.pollSent(to: id)
                let update = discipline.handle(measurement, from: id, at: base + NTPDuration(approximateSeconds: local))
                for action in update.actions {
                    switch action {
                    case .step(let amount):
                        offset += amount.seconds
                        stepped = true
                    case .setFrequency(let value): correction = value
                    case .setLeap, .setTAIOffset: break
                    }
                }
            }
            // As the daemon does: an exchange from before a step is not completed later.
            pending = stepped ? nil : current
            if poll > 150 { worstLate = max(worstLate, abs(offset)) }
            offset += (rateError + correction) * 16
        }
        #expect(worstLate < 1e-6)
    }
}
