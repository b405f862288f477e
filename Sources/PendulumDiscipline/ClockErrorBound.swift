/// How far the steered clock may be from true time: what pendulum-ntpd and pendulum-ptpd publish
/// for programs that need bounded time (`BoundsSegment`), and what the kernel's maxerror is set
/// from.
public struct ClockErrorBound: Sendable, Hashable {
    /// Largest error at the instant asked about, s.
    public var maximumError: Double
    /// How fast that grows from then on, s/s.
    public var maximumDrift: Double
    /// false once the sources are lost: the bound keeps growing from the last synchronisation.
    public var synchronized: Bool

    public init(maximumError: Double, maximumDrift: Double, synchronized: Bool) {
        self.maximumError = maximumError
        self.maximumDrift = maximumDrift
        self.synchronized = synchronized
    }

    /// The local clock's own frequency error is assumed never to exceed this beyond what the
    /// discipline knows of it (chrony's `maxclockerror` default, 1 ppm).
    public static let minimumDrift = 1e-6
    /// The frequency's standard deviations counted into the drift: three leave an estimate
    /// this far off once in several hundred selections.
    public static let frequencyDeviations = 3.0
}

extension ClockDiscipline {
    /// The bound the last selection proves, as of that selection; nil while not synchronised.
    /// Half the combined round trip (a path's asymmetry can hide no more), the sources' own
    /// dispersion and the filter's uncertainty; it grows by the drift the frequency estimate
    /// still allows.
    public var errorBoundAtLastSelection: ClockErrorBound? {
        guard system.synchronized else { return nil }
        let frequencyUncertainty = frequencyEstimate?.uncertainty ?? configuration.filter.initialFrequencyUncertainty
        return ClockErrorBound(
            maximumError: system.rootDelay / 2 + system.rootDispersion + system.uncertainty,
            maximumDrift: ClockErrorBound.minimumDrift + ClockErrorBound.frequencyDeviations * frequencyUncertainty,
            synchronized: true
        )
    }
}
