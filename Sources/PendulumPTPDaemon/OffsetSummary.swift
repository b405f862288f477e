/// ptp4l-style periodic summary of the offsets and delays seen since the last line:
/// "rms 812 max 1590 freq -12345 +/- 56 delay 21012 +/- 12" (nanoseconds, ppb).
struct OffsetSummary: Sendable {
    private var offsets: [Double] = []
    private var delays: [Double] = []
    private var frequencies: [Double] = []

    mutating func add(offset: Double, delay: Double, frequencyPPB: Double) {
        offsets.append(offset)
        delays.append(delay)
        frequencies.append(frequencyPPB)
    }

    var isEmpty: Bool { offsets.isEmpty }

    /// The line for the samples collected, and a fresh start.
    mutating func take() -> String? {
        guard !offsets.isEmpty else { return nil }
        defer { self = OffsetSummary() }
        let rms = (offsets.reduce(0) { $0 + $1 * $1 } / Double(offsets.count)).squareRoot()
        let maximum = offsets.map(abs).max() ?? 0
        let (frequency, frequencySpread) = Self.meanAndDeviation(frequencies)
        let (delay, delaySpread) = Self.meanAndDeviation(delays)
        return "rms \(Self.ns(rms)) max \(Self.ns(maximum)) freq \(Int(frequency.rounded())) +/- \(Int(frequencySpread.rounded()))"
            + " delay \(Self.ns(delay)) +/- \(Self.ns(delaySpread))"
    }

    private static func ns(_ seconds: Double) -> Int { Int((seconds * 1e9).rounded()) }

    private static func meanAndDeviation(_ values: [Double]) -> (Double, Double) {
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
        return (mean, variance.squareRoot())
    }
}
