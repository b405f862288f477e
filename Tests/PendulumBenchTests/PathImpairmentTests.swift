import Testing
import PendulumBench

@Suite struct PathImpairmentTests {
    private static func delays(_ impairment: inout PathImpairment, _ direction: PathDirection, count: Int, elapsed: Double = 0) -> [Double?] {
        (0..<count).map { _ in
            switch impairment.decide(direction, elapsed: elapsed) {
            case .drop: return nil
            case .deliver(let after): return after
            }
        }
    }

    @Test func theSameSeedReplaysTheSameDecisions() throws {
        let settings = PathImpairmentSettings(
            request: .init(baseDelay: 50e-6, meanJitter: 100e-6, loss: 0.2),
            reply: .init(baseDelay: 50e-6, meanJitter: 1e-3, loss: 0.1)
        )
        var first = try PathImpairment(settings: settings, seed: 42)
        var second = try PathImpairment(settings: settings, seed: 42)
        var other = try PathImpairment(settings: settings, seed: 43)
        let a = Self.delays(&first, .request, count: 200) + Self.delays(&first, .reply, count: 200)
        let b = Self.delays(&second, .request, count: 200) + Self.delays(&second, .reply, count: 200)
        let c = Self.delays(&other, .request, count: 200) + Self.delays(&other, .reply, count: 200)
        #expect(a == b)
        #expect(a != c)
    }

    @Test func directionsDrawFromTheirOwnStreams() throws {
        // Replies in between must not change which requests are dropped or how late they go.
        let settings = PathImpairmentSettings(request: .init(meanJitter: 1e-3, loss: 0.3), reply: .init(meanJitter: 1e-3, loss: 0.3))
        var alone = try PathImpairment(settings: settings, seed: 7)
        var interleaved = try PathImpairment(settings: settings, seed: 7)
        let requestsAlone = Self.delays(&alone, .request, count: 100)
        var requestsInterleaved: [Double?] = []
        for _ in 0..<100 {
            requestsInterleaved += Self.delays(&interleaved, .request, count: 1)
            _ = Self.delays(&interleaved, .reply, count: 3)
        }
        #expect(requestsAlone == requestsInterleaved)
    }

    @Test func jitterIsExponentialWithTheConfiguredMeanOnTopOfTheBase() throws {
        let settings = PathImpairmentSettings(request: .init(baseDelay: 50e-6, meanJitter: 100e-6))
        var impairment = try PathImpairment(settings: settings, seed: 1)
        let samples = Self.delays(&impairment, .request, count: 200_000).compactMap { $0 }
        #expect(samples.count == 200_000)
        #expect(samples.allSatisfy { $0 >= 50e-6 })
        let jitter = samples.map { $0 - 50e-6 }
        let mean = jitter.reduce(0, +) / Double(jitter.count)
        #expect(abs(mean - 100e-6) < 2e-6, "mean \(mean)")
        // Exponential: the median is mean × ln 2, and P(X > 3 × mean) = e^-3.
        let sorted = jitter.sorted()
        let median = sorted[sorted.count / 2]
        #expect(abs(median - 100e-6 * 0.693_147) < 2e-6, "median \(median)")
        let tail = Double(jitter.filter { $0 > 300e-6 }.count) / Double(jitter.count)
        #expect(abs(tail - 0.049_787) < 0.003, "tail \(tail)")
    }

    @Test func withoutJitterEveryDatagramGetsExactlyTheBaseDelay() throws {
        var impairment = try PathImpairment(settings: PathImpairmentSettings(request: .init(baseDelay: 0.005), reply: .init(baseDelay: 0.005)), seed: 3)
        #expect(Self.delays(&impairment, .request, count: 50).allSatisfy { $0 == 0.005 })
        #expect(Self.delays(&impairment, .reply, count: 50).allSatisfy { $0 == 0.005 })
    }

    @Test func lossDropsTheConfiguredFraction() throws {
        var impairment = try PathImpairment(settings: PathImpairmentSettings(request: .init(loss: 0.1), reply: .init(loss: 0.1)), seed: 9)
        let count = 100_000
        let requestDrops = Self.delays(&impairment, .request, count: count).filter { $0 == nil }.count
        let replyDrops = Self.delays(&impairment, .reply, count: count).filter { $0 == nil }.count
        #expect(abs(Double(requestDrops) / Double(count) - 0.1) < 0.005, "\(requestDrops)")
        #expect(abs(Double(replyDrops) / Double(count) - 0.1) < 0.005, "\(replyDrops)")

        var everything = try PathImpairment(settings: PathImpairmentSettings(request: .init(loss: 1), reply: .init(loss: 0)), seed: 9)
        #expect(Self.delays(&everything, .request, count: 1000).allSatisfy { $0 == nil })
        #expect(Self.delays(&everything, .reply, count: 1000).allSatisfy { $0 != nil })
    }

    @Test func eachDirectionHasItsOwnSettings() throws {
        let settings = PathImpairmentSettings(request: .init(baseDelay: 550e-6), reply: .init(baseDelay: 50e-6))
        var impairment = try PathImpairment(settings: settings, seed: 5)
        #expect(impairment.decide(.request, elapsed: 0) == .deliver(afterSeconds: 550e-6))
        #expect(impairment.decide(.reply, elapsed: 0) == .deliver(afterSeconds: 50e-6))
    }

    @Test func theStepAppliesOnlyFromItsTimeOn() throws {
        let settings = PathImpairmentSettings(
            request: .init(baseDelay: 50e-6, step: 1e-3), reply: .init(baseDelay: 50e-6, step: 0), stepAt: 150
        )
        var impairment = try PathImpairment(settings: settings, seed: 11)
        #expect(impairment.decide(.request, elapsed: 0) == .deliver(afterSeconds: 50e-6))
        #expect(impairment.decide(.request, elapsed: 149.999) == .deliver(afterSeconds: 50e-6))
        #expect(impairment.decide(.request, elapsed: 150) == .deliver(afterSeconds: 50e-6 + 1e-3))
        #expect(impairment.decide(.request, elapsed: 3000) == .deliver(afterSeconds: 50e-6 + 1e-3))
        #expect(impairment.decide(.reply, elapsed: 3000) == .deliver(afterSeconds: 50e-6))
    }

    @Test(arguments: [
        PathImpairmentSettings(request: .init(baseDelay: -1e-6)),
        PathImpairmentSettings(reply: .init(baseDelay: .nan)),
        PathImpairmentSettings(request: .init(baseDelay: .infinity)),
        PathImpairmentSettings(request: .init(baseDelay: 11)),
        PathImpairmentSettings(reply: .init(meanJitter: -0.001)),
        PathImpairmentSettings(request: .init(loss: 1.01)),
        PathImpairmentSettings(reply: .init(loss: -0.1)),
        PathImpairmentSettings(request: .init(loss: .nan)),
        PathImpairmentSettings(request: .init(step: 0.001)),  // a step without its time
        PathImpairmentSettings(request: .init(step: -0.001), stepAt: 10),
        PathImpairmentSettings(stepAt: -1),
        PathImpairmentSettings(stepAt: .nan),
    ])
    func invalidSettingsAreRejected(settings: PathImpairmentSettings) {
        #expect(throws: PathImpairmentError.self) { try PathImpairment(settings: settings, seed: 1) }
    }

    @Test func theEdgesOfEachRangeAreAccepted() throws {
        let settings = PathImpairmentSettings(
            request: .init(baseDelay: 0, meanJitter: 0, loss: 0, step: 0),
            reply: .init(baseDelay: 10, meanJitter: 10, loss: 1, step: 10), stepAt: 0
        )
        _ = try PathImpairment(settings: settings, seed: 0)
    }
}
