/// What the drift file holds: the clock's frequency correction once it was known, so a restart
/// begins with the right frequency instead of estimating it again from noisy first samples.
/// The file is one line, `FREQUENCY-PPM UNCERTAINTY-PPM`, as chrony's driftfile.
public struct DriftRecord: Sendable, Hashable {
    /// Frequency correction, s/s (positive: the clock is made to run faster).
    public var frequency: Double
    /// One standard deviation of `frequency`, s/s.
    public var uncertainty: Double

    /// The largest correction a drift file may restore: the kernel's own 500 ppm limit of
    /// ADJ_FREQUENCY. An oscillator that needs more is broken, and a file claiming it is not
    /// trusted.
    public static let largestFrequency = 500e-6

    public init(frequency: Double, uncertainty: Double) {
        self.frequency = frequency
        self.uncertainty = uncertainty
    }

    /// Reads the text of a drift file. Anything but two finite numbers in range is refused, so
    /// a damaged file costs one frequency estimate, never a clock sent off at a wild rate.
    public init(parsing text: String) throws(DriftFileError) {
        guard text.utf8.count <= 256 else { throw .tooLong(text.utf8.count) }
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
        guard fields.count == 2 else { throw .malformed("expected two numbers, found \(fields.count) fields") }
        guard let ppm = Double(fields[0]), ppm.isFinite else { throw .malformed("frequency \(fields[0].prefix(32)) is not a number") }
        guard let uncertaintyPPM = Double(fields[1]), uncertaintyPPM.isFinite, uncertaintyPPM >= 0 else {
            throw .malformed("uncertainty \(fields[1].prefix(32)) is not a non-negative number")
        }
        guard abs(ppm) * 1e-6 <= Self.largestFrequency else { throw .outOfRange(ppm) }
        frequency = ppm * 1e-6
        uncertainty = min(uncertaintyPPM * 1e-6, Self.largestFrequency)
    }

    /// The file's text.
    public var text: String {
        "\(Self.fixed(frequency * 1e6)) \(Self.fixed(uncertainty * 1e6))\n"
    }

    /// Six decimals (µppm) without Foundation's formatting.
    private static func fixed(_ value: Double) -> String {
        let micro = Int64((value * 1_000_000).rounded())
        let sign = micro < 0 ? "-" : ""
        let magnitude = micro.magnitude
        let fraction = String(magnitude % 1_000_000)
        return "\(sign)\(magnitude / 1_000_000).\(String(repeating: "0", count: 6 - fraction.count))\(fraction)"
    }
}

/// Why a drift file was not used.
public enum DriftFileError: Error, Sendable, Hashable, CustomStringConvertible {
    case tooLong(Int)
    case malformed(String)
    case outOfRange(Double)

    public var description: String {
        switch self {
        case .tooLong(let bytes): "\(bytes) bytes is too long for a drift file (one line expected)"
        case .malformed(let why): why
        case .outOfRange(let ppm): "frequency \(ppm) ppm is beyond the kernel's ±500 ppm"
        }
    }
}
