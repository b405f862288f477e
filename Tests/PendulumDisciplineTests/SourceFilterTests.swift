import Testing

@testable import PendulumDiscipline

/// A tiny deterministic generator so these tests do not depend on the simulator.
struct LinearCongruential {
    var state: UInt64
    mutating func unit() -> Double {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Double(state >> 11) * 0x1.0p-53
    }
    mutating func exponential(mean: Double) -> Double { -mean * Foundation_log(1 - unit()) }
}

#if canImport(Glibc)
    import Glibc
    func Foundation_log(_ x: Double) -> Double { Glibc.log(x) }
#else
    import Darwin
    func Foundation_log(_ x: Double) -> Double { Darwin.log(x) }
#endif

@Suite struct SourceFilterTests {
    /// Offset 3 ms, drifting 20 ppm; each direction 100 µs + exp(100 µs).
    @Test func tracksOffsetAndFrequencyThroughQueueingNoise() {
        var filter = SourceFilter()
        var random = LinearCongruential(state: 7)
        var worst = 0.0
        var squares = 0.0
        for step in 0..<600 {
            let t = Double(step) * 2
            let truth = 0.003 + 20e-6 * t
            let up = 100e-6 + random.exponential(mean: 100e-6)
            let down = 100e-6 + random.exponential(mean: 100e-6)
            _ = filter.update(offset: truth + (up - down) / 2, delay: up + down, at: t)
            if step > 300 {
                worst = max(worst, abs(filter.offset - truth))
                squares += (filter.offset - truth) * (filter.offset - truth)
            }
        }
        // Raw samples are off by up to hundreds of µs. A filter with one constant measurement
        // variance gets about 8 µs RMS here; weighting by excess delay must do clearly better.
        #expect((squares / 299).squareRoot() < 5e-6)
        #expect(worst < 13e-6)
        #expect(abs(filter.frequency - 20e-6) < 0.05e-6)
    }

    @Test func samplesNearTheMinimumDelayWeighMore() {
        var filter = SourceFilter()
        for step in 0..<50 { _ = filter.update(offset: 0, delay: 0.0002 + Double(step % 5) * 1e-4, at: Double(step)) }
        let quiet = filter.measurementVariance(delay: 0.0002)
        let queued = filter.measurementVariance(delay: 0.0006)
        #expect(queued > 10 * quiet)
    }

    @Test func delayOutliersAreRejected() {
        var filter = SourceFilter()
        var random = LinearCongruential(state: 3)
        for step in 0..<50 {
            _ = filter.update(offset: 0, delay: 0.0002 + random.exponential(mean: 20e-6), at: Double(step))
        }
        #expect(filter.update(offset: 0.004, delay: 0.01, at: 50) == .rejectedDelay)
    }

    @Test func aConsistentJumpRestartsTheFilter() {
        var filter = SourceFilter()
        for step in 0..<50 { _ = filter.update(offset: 0, delay: 0.0002, at: Double(step)) }
        #expect(filter.update(offset: 0.25, delay: 0.0002, at: 50) == .rejectedOutlier)
        #expect(filter.update(offset: 0.25, delay: 0.0002, at: 51) == .rejectedOutlier)
        guard case .jumped(let amount) = filter.update(offset: 0.25, delay: 0.0002, at: 52) else {
            Issue.record("no jump detected")
            return
        }
        #expect(abs(amount - 0.25) < 1e-3)
        #expect(abs(filter.offset - 0.25) < 1e-6)
    }

    @Test func steeringIsFedBackIntoTheEstimate() {
        var filter = SourceFilter()
        for step in 0..<20 { _ = filter.update(offset: 0.01, delay: 0.0002, at: Double(step)) }
        filter.clockStepped(by: 0.01)
        #expect(abs(filter.offset) < 1e-6)
        filter.frequencyChanged(by: 1e-6, at: 20)
        #expect(abs(filter.frequency + 1e-6) < 1e-8)
    }

    /// A sample that arrives after the discipline has steered past its time (an interleaved
    /// answer completes the previous exchange) measures the offset the clock had when it was
    /// taken, with the frequency changes made since accounted for. Here a slew of +10 ppm ran
    /// from 45 s to 60 s; a sample taken at 55 s and fed at 60 s must agree exactly with the
    /// estimate (read as a sample of the present it is 50 µs off, a 6σ outlier).
    @Test func aSampleOlderThanTheEstimateIsComparedWithItsOwnTime() {
        var filter = SourceFilter()
        let delay = 1e-6
        func truth(_ t: Double) -> Double {
            // server − local: 50 ppm until 40 s, corrected to 0 then, −10 ppm during the slew.
            let atForty = 0.001 + 50e-6 * 40
            if t <= 40 { return 0.001 + 50e-6 * t }
            if t <= 45 { return atForty }
            return atForty - 10e-6 * (min(t, 60) - 45)
        }
        for step in 0..<30 { _ = filter.update(offset: truth(Double(step)), delay: delay, at: Double(step)) }
        filter.frequencyChanged(by: 50e-6, at: 40)
        filter.frequencyChanged(by: 10e-6, at: 45)
        filter.frequencyChanged(by: -10e-6, at: 60)
        #expect(filter.update(offset: truth(55), delay: delay, at: 55) == .accepted)
        #expect(abs(filter.offset - truth(60)) < 0.5e-6)
        #expect(abs(filter.frequency) < 0.05e-6)
        // And the next sample, taken after the last change, is no surprise either.
        #expect(filter.update(offset: truth(61), delay: delay, at: 61) == .accepted)
        #expect(abs(filter.offset - truth(61)) < 0.5e-6)
    }

    /// A longer route (here +2 ms round trip) first looks like queueing and is refused, but
    /// after a run of such samples the floor moves and the source is listened to again.
    @Test func aLongerPathIsAcceptedAfterARunOfSamplesAboveTheOldFloor() {
        var filter = SourceFilter()
        var random = LinearCongruential(state: 11)
        for step in 0..<60 {
            _ = filter.update(offset: 0, delay: 0.0002 + random.exponential(mean: 20e-6), at: Double(step))
        }
        var outcomes: [SourceFilter.Outcome] = []
        for step in 60..<80 {
            outcomes.append(filter.update(offset: 0, delay: 0.0022 + random.exponential(mean: 20e-6), at: Double(step)))
        }
        let confirmations = SourceFilter.Configuration().pathChangeConfirmations
        #expect(outcomes.prefix(confirmations - 1).allSatisfy { $0 == .rejectedDelay })
        #expect(outcomes.dropFirst(confirmations - 1).allSatisfy { $0 == .accepted })
        #expect(filter.delays.minimumSeen > 0.0021)
    }

    /// Isolated spikes never add up to a path change: the run must be unbroken.
    @Test func scatteredDelaySpikesStayRejected() {
        var filter = SourceFilter()
        for step in 0..<60 { _ = filter.update(offset: 0, delay: 0.0002 + Double(step % 3) * 1e-5, at: Double(step)) }
        for step in 60..<100 {
            let spike = step % 2 == 0
            let outcome = filter.update(offset: 0, delay: spike ? 0.01 : 0.0002, at: Double(step))
            if spike { #expect(outcome == .rejectedDelay) }
        }
        #expect(filter.delays.minimumSeen < 0.0003)
    }

    @Test func keepingOnlyTheNewestDelaysWorksBeforeAndAfterTheRingWraps() {
        var short = MinimumDelayTracker(capacity: 8)
        for value in 1...5 { short.add(Double(value)) }
        short.keepOnlyMostRecent(2)
        #expect(short.count == 2)
        #expect(short.statistics().minimum == 4)
        var wrapped = MinimumDelayTracker(capacity: 8)
        for value in 1...13 { wrapped.add(Double(value)) }
        wrapped.keepOnlyMostRecent(3)
        #expect(wrapped.count == 3)
        #expect(wrapped.statistics().minimum == 11)
        wrapped.add(0.5)
        #expect(wrapped.statistics().minimum == 0.5)
        #expect(wrapped.count == 4)
    }
}
