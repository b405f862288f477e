/// Mean and standard deviation over runs of each figure `pendulum simulate` reports.
public struct SimulationSummary: Sendable {
    public struct Statistic: Sendable, Hashable {
        public var mean: Double
        public var standardDeviation: Double
        public var count: Int

        public init(_ values: [Double]) {
            count = values.count
            guard !values.isEmpty else {
                mean = .nan
                standardDeviation = .nan
                return
            }
            let mean = values.reduce(0, +) / Double(values.count)
            self.mean = mean
            let spread = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
            standardDeviation = values.count > 1 ? (spread / Double(values.count - 1)).squareRoot() : 0
        }
    }

    public var rmsOffset: Statistic
    public var maxOffset: Statistic
    public var meanOffset: Statistic
    public var rmsFrequencyError: Statistic
    /// Over the runs that did synchronise; `runsNeverSynchronized` counts the others.
    public var timeToSync: Statistic
    public var runsNeverSynchronized: Int
    /// Simulated seconds per poll, per server.
    public var meanPollInterval: Statistic
    public var runs: Int
    /// Published error bounds over all runs, the ones the true error exceeded, and the mean
    /// bound after the warm-up.
    public var boundSamples: Int
    public var boundViolations: Int
    public var meanBound: Statistic

    public init(_ results: [SimulationResult]) {
        runs = results.count
        rmsOffset = Statistic(results.map(\.rmsOffset))
        maxOffset = Statistic(results.map(\.maxOffset))
        meanOffset = Statistic(results.map(\.meanOffset))
        rmsFrequencyError = Statistic(results.map(\.rmsFrequencyError))
        let synced = results.compactMap(\.timeToSync)
        timeToSync = Statistic(synced)
        runsNeverSynchronized = results.count - synced.count
        meanPollInterval = Statistic(results.map { $0.duration * Double($0.servers) / Double(max(1, $0.polls)) })
        boundSamples = results.reduce(0) { $0 + $1.boundSamples }
        boundViolations = results.reduce(0) { $0 + $1.boundViolations }
        meanBound = Statistic(results.map(\.meanBound).filter(\.isFinite))
    }
}
