import PendulumTime
import PendulumDiscipline

/// Everything that defines one simulated run; with the same scenario and seed a run is
/// bit-for-bit repeatable.
public struct SimulationScenario: Sendable {
    public var servers: [SimulatedServer]
    public var oscillator: OscillatorModel
    /// Local minus true time at start, s.
    public var initialOffset: Double
    /// Probability that a request or its answer is lost (each independently).
    public var loss: Double
    public var duration: Double
    /// Statistics cover [warmup, duration].
    public var warmup: Double
    public var discipline: DisciplineConfiguration
    /// Someone steps the local clock by `amount` s at true time `time` (clock meddling).
    public var externalSteps: [(time: Double, amount: Double)]
    /// Keep the per-second offset trace (for CSV/plots); costs memory.
    public var recordTrace: Bool
    /// Keep the client core's log lines (debug included) with their true times.
    public var recordLog = false
    /// The true time at the start. Any will do (2023-08-05 by default) except where the calendar
    /// matters: leap seconds are only carried out on the last day of a month.
    public var startTime = NTPTimestamp(seconds: 3_900_000_000, fraction: 0)

    public init(
        servers: [SimulatedServer], oscillator: OscillatorModel = OscillatorModel(), initialOffset: Double = 0.01,
        loss: Double = 0, duration: Double = 100_000, warmup: Double = 2000,
        discipline: DisciplineConfiguration = DisciplineConfiguration(),
        externalSteps: [(time: Double, amount: Double)] = [], recordTrace: Bool = false
    ) {
        self.servers = servers
        self.oscillator = oscillator
        self.initialOffset = initialOffset
        self.loss = loss
        self.duration = duration
        self.warmup = warmup
        self.discipline = discipline
        self.externalSteps = externalSteps
        self.recordTrace = recordTrace
    }

    /// The issue-4 reference network: `count` perfect servers, each direction
    /// `base` + exponential with mean `jitter`.
    public static func reference(
        jitter: Double, base: Double = 100e-6, count: Int = 1, fixedPoll: Int? = nil
    ) -> SimulationScenario {
        let path = DelayModel(fixed: base, exponentialMean: jitter)
        var discipline = DisciplineConfiguration()
        if let fixedPoll { discipline.pollLimits = fixedPoll...fixedPoll }
        return SimulationScenario(
            servers: Array(repeating: SimulatedServer(up: path, down: path), count: count),
            discipline: discipline
        )
    }
}

/// What one run measured. Offsets are local minus true time.
public struct SimulationResult: Sendable {
    public var rmsOffset: Double
    public var maxOffset: Double
    public var meanOffset: Double
    public var rmsFrequencyError: Double
    /// First time |offset| < 1 ms and stays so to the end; nil if never.
    public var timeToSync: Double?
    /// Per-second (time, offset) when the scenario asked for it.
    public var trace: [(time: Double, offset: Double)]
    public var steps: [(time: Double, amount: Double)]
    public var events: [(time: Double, event: DisciplineEvent)]
    /// Every source that was ever a survivor of selection (or the primary).
    public var everSelected: Set<SourceID>
    public var everPrimary: Set<SourceID>
    /// Polls sent, over all servers (for the traffic a policy costs).
    public var polls: Int
    public var duration: Double
    public var servers: Int
    public var announcedLeap: LeapIndicator
    public var finalSystem: SystemState
    /// The client core's log lines and the frequency it set, when the scenario asked for them.
    public var log: [(time: Double, message: String)] = []
    /// Seconds at which the client had an error bound to publish, and how many of them the
    /// true error exceeded it (a violation is a bug: the bound must be honest).
    public var boundSamples = 0
    public var boundViolations = 0
    /// The bound's mean after the warm-up, s.
    public var meanBound = Double.nan
}
