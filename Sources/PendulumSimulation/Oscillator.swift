#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The simulated local oscillator's frequency error (s/s): a constant part, a random walk
/// stepped once per simulated second, and an optional sinusoid standing in for temperature.
public struct OscillatorModel: Sendable, Hashable {
    public var initialFrequencyError: Double
    /// Std-dev of the per-second random-walk step of the frequency, s/s.
    public var wander: Double
    public var temperatureAmplitude: Double
    public var temperaturePeriod: Double

    public init(
        initialFrequencyError: Double = 0, wander: Double = 1e-9,
        temperatureAmplitude: Double = 0, temperaturePeriod: Double = 86_400
    ) {
        self.initialFrequencyError = initialFrequencyError
        self.wander = wander
        self.temperatureAmplitude = temperatureAmplitude
        self.temperaturePeriod = temperaturePeriod
    }

    func temperatureTerm(at time: Double) -> Double {
        guard temperatureAmplitude != 0, temperaturePeriod > 0 else { return 0 }
        return temperatureAmplitude * sin(2 * Double.pi * time / temperaturePeriod)
    }
}
