import Testing

@testable import PendulumSimulation

@Suite struct ModelTests {
    @Test func generatorIsReproducibleAndWellDistributed() {
        var a = SeededGenerator(seed: 9)
        var b = SeededGenerator(seed: 9)
        #expect((0..<5).map { _ in a.next() } == (0..<5).map { _ in b.next() })
        var random = SeededGenerator(seed: 1)
        let count = 200_000
        var exponentialSum = 0.0
        var normalSum = 0.0
        var normalSquares = 0.0
        for _ in 0..<count {
            exponentialSum += random.exponential(mean: 2)
            let x = random.normal()
            normalSum += x
            normalSquares += x * x
        }
        #expect(abs(exponentialSum / Double(count) - 2) < 0.02)
        #expect(abs(normalSum / Double(count)) < 0.01)
        #expect(abs(normalSquares / Double(count) - 1) < 0.01)
    }

    @Test func delayExpressionsParse() throws {
        #expect(try DelayModel(parsing: "100e-6+exp(100e-6)") == DelayModel(fixed: 100e-6, exponentialMean: 100e-6))
        #expect(try DelayModel(parsing: "1e-3 + exp(1e-4) + normal(5e-5)")
            == DelayModel(fixed: 1e-3, exponentialMean: 1e-4, normalStandardDeviation: 5e-5))
        #expect(try DelayModel(parsing: "1e+0") == DelayModel(fixed: 1))
    }

    @Test func badDelayExpressionsAreTypedErrors() {
        #expect(throws: DelayExpressionError.empty) { try DelayModel(parsing: "") }
        #expect(throws: DelayExpressionError.badTerm("exp(x)")) { try DelayModel(parsing: "1+exp(x)") }
        #expect(throws: DelayExpressionError.badTerm("normal(-1)")) { try DelayModel(parsing: "normal(-1)") }
        #expect(throws: DelayExpressionError.badTerm("")) { try DelayModel(parsing: "1++2") }
        #expect(throws: DelayExpressionError.badTerm("1e")) { try DelayModel(parsing: "1e") }
    }

    @Test func svgAndCsvDescribeTheTrace() {
        let trace = (0..<5000).map { (time: Double($0), offset: 1e-6 * Double($0 % 7)) }
        let csv = OffsetPlot.csv(Array(trace.prefix(2)))
        #expect(csv == "time_seconds,offset_seconds\n0.0,0.0\n1.0,1e-06\n")
        let svg = OffsetPlot.svg(trace, title: "a<b")
        #expect(svg.hasPrefix("<svg"))
        #expect(svg.contains("<polyline"))
        #expect(svg.contains("a&lt;b"))
        #expect(svg.hasSuffix("</svg>\n"))
    }
}
