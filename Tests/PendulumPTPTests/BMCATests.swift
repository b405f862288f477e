import Testing
import PendulumTime
@testable import PendulumPTP

private func identity(_ n: UInt64) -> ClockIdentity { ClockIdentity(rawValue: n) }
private func port(_ clock: UInt64, _ number: UInt16) -> PortIdentity { PortIdentity(clockIdentity: identity(clock), portNumber: number) }

private func dataset(gm: UInt64 = 0x10, p1: UInt8 = 128, clockClass: UInt8 = 248, accuracy: UInt8 = 0xFE,
                     variance: UInt16 = 0xFFFF, p2: UInt8 = 128, steps: UInt16 = 0,
                     sender: PortIdentity = port(0x10, 1), receiver: PortIdentity = port(0x99, 1)) -> ComparisonDataset {
    ComparisonDataset(grandmasterPriority1: p1, grandmasterIdentity: identity(gm),
                      grandmasterClockQuality: ClockQuality(clockClass: clockClass, clockAccuracy: accuracy, offsetScaledLogVariance: variance),
                      grandmasterPriority2: p2, stepsRemoved: steps, sender: sender, receiver: receiver)
}

private func announce(gm: UInt64, p1: UInt8 = 128, clockClass: UInt8 = 248, steps: UInt16 = 0) -> PTPAnnounceBody {
    PTPAnnounceBody(currentUtcOffset: 37, grandmasterPriority1: p1,
                    grandmasterClockQuality: ClockQuality(clockClass: clockClass), grandmasterPriority2: 128,
                    grandmasterIdentity: identity(gm), stepsRemoved: steps, timeSource: TimeSource.internalOscillator)
}

private func header(from sender: PortIdentity, sequence: UInt16 = 0) -> PTPHeader {
    PTPHeader(sourcePortIdentity: sender, sequenceId: sequence, controlField: 5, logMessageInterval: 1)
}

@Suite struct DatasetComparisonTests {
    // Figure 34: different grandmasters, attribute by attribute.
    @Test func priority1Decides() {
        #expect(DatasetComparison.compare(dataset(gm: 2, p1: 100), dataset(gm: 1, p1: 101)) == .aBetter)
        #expect(DatasetComparison.compare(dataset(gm: 1, p1: 101), dataset(gm: 2, p1: 100)) == .bBetter)
    }

    @Test func clockClassThenAccuracyThenVarianceThenPriority2() {
        #expect(DatasetComparison.compare(dataset(gm: 2, clockClass: 6), dataset(gm: 1, clockClass: 7)) == .aBetter)
        #expect(DatasetComparison.compare(dataset(gm: 2, accuracy: 0x21), dataset(gm: 1, accuracy: 0x22)) == .aBetter)
        #expect(DatasetComparison.compare(dataset(gm: 2, variance: 0x4000), dataset(gm: 1, variance: 0x4001)) == .aBetter)
        #expect(DatasetComparison.compare(dataset(gm: 2, p2: 1), dataset(gm: 1, p2: 2)) == .aBetter)
        // Priority1 outranks class.
        #expect(DatasetComparison.compare(dataset(gm: 2, p1: 1, clockClass: 248), dataset(gm: 1, p1: 2, clockClass: 6)) == .aBetter)
    }

    @Test func identityBreaksTies() {
        #expect(DatasetComparison.compare(dataset(gm: 1), dataset(gm: 2)) == .aBetter)
        #expect(DatasetComparison.compare(dataset(gm: 2), dataset(gm: 1)) == .bBetter)
    }

    // Figure 35: same grandmaster.
    @Test func stepsRemovedDifferingByMoreThanOne() {
        #expect(DatasetComparison.compare(dataset(steps: 3), dataset(steps: 1)) == .bBetter)
        #expect(DatasetComparison.compare(dataset(steps: 1), dataset(steps: 3)) == .aBetter)
    }

    @Test func oneStepMoreComparesReceiverWithSender() {
        // A has one step more; receiver < sender → B better, receiver > sender → B better by topology.
        let a1 = dataset(steps: 2, sender: port(0x50, 1), receiver: port(0x40, 1))
        #expect(DatasetComparison.compare(a1, dataset(steps: 1)) == .bBetter)
        let a2 = dataset(steps: 2, sender: port(0x30, 1), receiver: port(0x40, 1))
        #expect(DatasetComparison.compare(a2, dataset(steps: 1)) == .bBetterByTopology)
        let a3 = dataset(steps: 2, sender: port(0x40, 1), receiver: port(0x40, 1))
        #expect(DatasetComparison.compare(a3, dataset(steps: 1)) == .sameMessageReturned)
        // Mirror image: B has one step more.
        let b1 = dataset(steps: 2, sender: port(0x50, 1), receiver: port(0x40, 1))
        #expect(DatasetComparison.compare(dataset(steps: 1), b1) == .aBetter)
        let b2 = dataset(steps: 2, sender: port(0x30, 1), receiver: port(0x40, 1))
        #expect(DatasetComparison.compare(dataset(steps: 1), b2) == .aBetterByTopology)
        #expect(DatasetComparison.compare(dataset(steps: 1), a3) == .sameMessageReturned)
    }

    @Test func equalStepsCompareSendersThenReceiverPorts() {
        let a = dataset(steps: 1, sender: port(0x20, 1), receiver: port(0x99, 1))
        let b = dataset(steps: 1, sender: port(0x21, 1), receiver: port(0x99, 2))
        #expect(DatasetComparison.compare(a, b) == .aBetterByTopology)
        #expect(DatasetComparison.compare(b, a) == .bBetterByTopology)
        // Same sender port number decides by sender port number first.
        let c = dataset(steps: 1, sender: port(0x20, 2), receiver: port(0x99, 1))
        #expect(DatasetComparison.compare(a, c) == .aBetterByTopology)
        // Same sender: the receiving port with the lower number wins.
        let d = dataset(steps: 1, sender: port(0x20, 1), receiver: port(0x99, 2))
        #expect(DatasetComparison.compare(a, d) == .aBetterByTopology)
        #expect(DatasetComparison.compare(d, a) == .bBetterByTopology)
        #expect(DatasetComparison.compare(a, a) == .identical)
    }
}

@Suite struct ForeignMasterTableTests {
    let sender = port(0x10, 1)
    let second: Duration = .seconds(1)

    @Test func oneAnnounceDoesNotQualifyTwoDo() {
        var table = ForeignMasterTable()
        let t0 = PTPInstant.zero
        table.record(announce(gm: 0x10), header: header(from: sender), at: t0, localLogAnnounceInterval: 1)
        #expect(table.qualified(at: t0).isEmpty)
        table.record(announce(gm: 0x10), header: header(from: sender, sequence: 1), at: t0 + .seconds(2), localLogAnnounceInterval: 1)
        #expect(table.qualified(at: t0 + .seconds(2)).count == 1)
    }

    @Test func announcesOutsideTheWindowDoNotCount() {
        var table = ForeignMasterTable()
        // Window = 4 × 2¹ s = 8 s.
        table.record(announce(gm: 0x10), header: header(from: sender), at: .zero, localLogAnnounceInterval: 1)
        table.record(announce(gm: 0x10), header: header(from: sender), at: .zero + .seconds(9), localLogAnnounceInterval: 1)
        #expect(table.qualified(at: .zero + .seconds(9)).isEmpty)
        table.record(announce(gm: 0x10), header: header(from: sender), at: .zero + .seconds(12), localLogAnnounceInterval: 1)
        #expect(table.qualified(at: .zero + .seconds(12)).count == 1)
        // Qualification lapses when the sender falls silent.
        #expect(table.qualified(at: .zero + .seconds(18)).isEmpty)
        table.prune(at: .zero + .seconds(30))
        #expect(table.records.isEmpty)
    }

    @Test func capacityBoundsTheTable() {
        var table = ForeignMasterTable()
        table.capacity = 2
        var recorded: [Bool] = []
        recorded.append(table.record(announce(gm: 1), header: header(from: port(1, 1)), at: .zero, localLogAnnounceInterval: 0))
        recorded.append(table.record(announce(gm: 2), header: header(from: port(2, 1)), at: .zero, localLogAnnounceInterval: 0))
        recorded.append(table.record(announce(gm: 3), header: header(from: port(3, 1)), at: .zero, localLogAnnounceInterval: 0))
        #expect(recorded == [true, true, false])
        #expect(table.records.count == 2)
    }
}

@Suite struct StateDecisionTests {
    let ours = DefaultDataset(clockIdentity: identity(0x50), numberPorts: 2)

    func qualifiedRecord(gm: UInt64, p1: UInt8 = 128, steps: UInt16 = 0, sender: PortIdentity) -> ForeignMasterTable.Record {
        var table = ForeignMasterTable()
        table.record(announce(gm: gm, p1: p1, steps: steps), header: header(from: sender), at: .zero, localLogAnnounceInterval: 0)
        table.record(announce(gm: gm, p1: p1, steps: steps), header: header(from: sender), at: .zero + .seconds(1), localLogAnnounceInterval: 0)
        return table.qualified(at: .zero + .seconds(1))[0]
    }

    @Test func listeningWithoutAnnouncesStaysListening() {
        let result = StateDecision.decide(defaults: ours, ports: [.init(portIdentity: port(0x50, 1), state: .listening, qualifiedRecords: [])])
        #expect(result == [.listening])
    }

    @Test func listeningPortThatTimedOutDecidesM2OrM3() {
        let alone = StateDecision.decide(defaults: ours, ports: [
            .init(portIdentity: port(0x50, 1), state: .listening, qualifiedRecords: [], announceReceiptTimedOut: true)])
        #expect(alone == [.master(.m2)])
        let better = qualifiedRecord(gm: 0x10, p1: 100, sender: port(0x10, 1))
        let behindBetter = StateDecision.decide(defaults: ours, ports: [
            .init(portIdentity: port(0x50, 1), state: .slave, qualifiedRecords: [better]),
            .init(portIdentity: port(0x50, 2), state: .listening, qualifiedRecords: [], announceReceiptTimedOut: true)])
        #expect(behindBetter == [.slave(better), .master(.m3)])
    }

    @Test func m2WhenWeAreBetterThanEverything() {
        let worse = qualifiedRecord(gm: 0x60, p1: 200, sender: port(0x60, 1))
        let result = StateDecision.decide(defaults: ours, ports: [
            .init(portIdentity: port(0x50, 1), state: .listening, qualifiedRecords: [worse])])
        #expect(result == [.master(.m2)])
    }

    @Test func s1OnThePortWithTheBestMasterAndM3OnTheOther() {
        let better = qualifiedRecord(gm: 0x10, p1: 100, sender: port(0x10, 1))
        let result = StateDecision.decide(defaults: ours, ports: [
            .init(portIdentity: port(0x50, 1), state: .listening, qualifiedRecords: [better]),
            .init(portIdentity: port(0x50, 2), state: .master, qualifiedRecords: [])])
        #expect(result == [.slave(better), .master(.m3)])
    }

    @Test func m3WhenAPortHearsAWorseMasterThanEbest() {
        let best = qualifiedRecord(gm: 0x10, p1: 100, sender: port(0x10, 1))
        let worse = qualifiedRecord(gm: 0x20, p1: 110, sender: port(0x20, 1))
        let result = StateDecision.decide(defaults: ours, ports: [
            .init(portIdentity: port(0x50, 1), state: .slave, qualifiedRecords: [best]),
            .init(portIdentity: port(0x50, 2), state: .listening, qualifiedRecords: [worse])])
        #expect(result == [.slave(best), .master(.m3)])
    }

    @Test func p2WhenAnotherPortHearsTheSameGrandmasterByABetterPath() {
        // Both ports hear grandmaster 0x10 one hop away, through different boundary clocks.
        let viaA = qualifiedRecord(gm: 0x10, p1: 100, steps: 1, sender: port(0x20, 1))
        let viaB = qualifiedRecord(gm: 0x10, p1: 100, steps: 1, sender: port(0x30, 1))
        let result = StateDecision.decide(defaults: ours, ports: [
            .init(portIdentity: port(0x50, 1), state: .slave, qualifiedRecords: [viaA]),
            .init(portIdentity: port(0x50, 2), state: .listening, qualifiedRecords: [viaB])])
        #expect(result == [.slave(viaA), .passive(.p2)])
    }

    @Test func classBelow128GivesM1OrP1() {
        var grandmaster = ours
        grandmaster.clockQuality = ClockQuality(clockClass: 6)
        let worse = qualifiedRecord(gm: 0x60, p1: 200, sender: port(0x60, 1))
        let better = qualifiedRecord(gm: 0x10, p1: 1, sender: port(0x10, 1))
        let result = StateDecision.decide(defaults: grandmaster, ports: [
            .init(portIdentity: port(0x50, 1), state: .master, qualifiedRecords: [worse]),
            .init(portIdentity: port(0x50, 2), state: .master, qualifiedRecords: [better]),
            .init(portIdentity: port(0x50, 3), state: .master, qualifiedRecords: [])])
        #expect(result == [.master(.m1), .passive(.p1), .master(.m1)])
    }

    @Test func ownAnnounceReturnedThroughALoopIsNotBest() {
        // An Announce whose stepsRemoved reached 255 is never chosen.
        let looping = qualifiedRecord(gm: 0x10, p1: 1, steps: 255, sender: port(0x20, 1))
        let result = StateDecision.decide(defaults: ours, ports: [
            .init(portIdentity: port(0x50, 1), state: .listening, qualifiedRecords: [looping])])
        #expect(result == [.listening])
    }

    @Test func masterOnlyPortIgnoresBetterMasters() {
        let better = qualifiedRecord(gm: 0x10, p1: 1, sender: port(0x10, 1))
        let result = StateDecision.decide(defaults: ours, ports: [
            .init(portIdentity: port(0x50, 1), state: .master, qualifiedRecords: [better], masterOnly: true)])
        #expect(result == [.master(.m2)])
    }
}

@Suite struct SlowAnnouncerTests {
    @Test func aMasterAnnouncingMoreSlowlyThanUsStillQualifies() {
        var table = ForeignMasterTable()
        var slow = header(from: port(0x10, 1))
        slow.logMessageInterval = 3  // every 8 s, while we are configured for 2 s
        table.record(announce(gm: 0x10), header: slow, at: .zero, localLogAnnounceInterval: 1)
        table.record(announce(gm: 0x10), header: slow, at: .zero + .seconds(8), localLogAnnounceInterval: 1)
        #expect(table.qualified(at: .zero + .seconds(8)).count == 1)
        // 0x7F and nonsense fall back to our own interval.
        #expect(ForeignMasterTable.effectiveLogInterval(local: 1, announced: 0x7F) == 1)
        #expect(ForeignMasterTable.effectiveLogInterval(local: 1, announced: 100) == 1)
        #expect(ForeignMasterTable.effectiveLogInterval(local: 1, announced: -3) == 1)
    }
}
