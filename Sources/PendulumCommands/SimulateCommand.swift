import ArgumentParser
import PendulumDiscipline
import PendulumSimulation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `pendulum simulate`: runs the clock discipline against a simulated network and oscillator
/// in virtual time and reports how far the clock stayed from true time.
@available(macOS 13, *)
struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Simulate the clock discipline against a modelled network and oscillator.",
        discussion: """
            Delays are per direction: --base-delay plus exponential jitter with mean --jitter, \
            unless --delay-up/--delay-down give an expression FIXED[+exp(MEAN)][+normal(STD)] \
            in seconds, e.g. 100e-6+exp(100e-6). Offsets are the local clock minus true time, \
            sampled once per simulated second from --warmup to --duration.
            """
    )

    @Option(help: "Fixed one-way delay, s.") var baseDelay: Double = 100e-6
    @Option(help: "Mean of the exponential one-way jitter, s.") var jitter: Double = 100e-6
    @Option(help: "Upstream delay expression (overrides --base-delay/--jitter).") var delayUp: String?
    @Option(help: "Downstream delay expression (overrides --base-delay/--jitter).") var delayDown: String?
    @Option(parsing: .unconditional, help: "Extra fixed delay on the downstream path, s.") var asymmetry: Double = 0
    @Option(help: "Std-dev of the per-second frequency random-walk step, s/s.") var wander: Double = 1e-9
    @Option(help: "Amplitude of a sinusoidal (temperature-like) frequency error, s/s.")
    var temperatureAmplitude: Double = 0
    @Option(help: "Period of that sinusoid, s.") var temperaturePeriod: Double = 86_400
    @Option(parsing: .unconditional, help: "Initial local-minus-true offset, s.") var initialOffset: Double = 0.01
    @Option(parsing: .unconditional, help: "Initial frequency error, s/s.") var initialFrequency: Double = 0
    @Option(help: "'default' (adaptive) or a fixed log2 poll interval.") var poll: String = "default"
    @Option(parsing: .unconditional, help: "Shortest log2 poll interval of the adaptive poll (like a source's minpoll).") var minpoll: Int?
    @Option(parsing: .unconditional, help: "Longest log2 poll interval of the adaptive poll (like a source's maxpoll).") var maxpoll: Int?
    @Option(help: "Offsets are slewed away over this many poll intervals (at least --minimum-slew-time).")
    var slewPollFactor: Double?
    @Option(help: "Shortest time over which an offset is slewed away, s.") var minimumSlewTime: Double?
    @Option(help: "Quick polls (1 s apart) when a source starts.") var burstCount: Int?
    @Option(help: "Probability that a packet is lost, each direction.") var loss: Double = 0
    @Option(help: "Simulated second from which both directions take --delay-step longer.") var delayStepAt: Double?
    @Option(parsing: .unconditional, help: "Extra one-way delay from --delay-step-at on, s.") var delayStep: Double = 0
    @Option(help: "Extra delay of the first request to each server (a cold path), s.") var firstRequestDelay: Double = 0
    @Option(help: "Number of servers.") var sources: Int = 1
    @Option(help: "How many of them are falsetickers.") var falsetickers: Int = 0
    @Option(parsing: .unconditional, help: "A falseticker's time error, s.") var falsetickerOffset: Double = 1
    @Option(parsing: .unconditional, help: "Growth of a falseticker's error, s/s.") var falsetickerDrift: Double = 0
    @Option(help: "Simulated seconds.") var duration: Double = 100_000
    @Option(help: "Seconds excluded from the statistics at the start.") var warmup: Double = 2000
    @Option(help: "Seed of the first run; run i uses seed + i.") var seed: UInt64 = 1
    @Option(help: "Number of runs to average.") var runs: Int = 1
    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Print the first run's discipline events and clock steps with their times.") var events = false
    @Flag(help: "Print the first run's client log (what pendulum-ntpd would log, debug included) with simulated times.") var log = false
    @Option(help: "Write the first run's offset trace as CSV to this file.") var csv: String?
    @Option(help: "Write the first run's offset trace as an SVG line chart to this file.") var plot: String?
    @Option(name: .customLong("protocol"), help: "ntp, or ptp (E2E, two-step; see SimulateCommand+PTP.swift).")
    var protocolName: String = "ntp"
    @Option(parsing: .unconditional, help: "PTP only: log2 Sync (and Delay_Req) interval.") var syncInterval: Int = 0
    @Option(help: "PTP only: e2e (Delay_Req/Delay_Resp) or p2p (peer delay).") var delayMechanism: String = "e2e"

    func validate() throws {
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
        guard sources >= 1 else { throw ValidationError("--sources must be at least 1") }
        guard (0...sources).contains(falsetickers) else {
            throw ValidationError("--falsetickers must be between 0 and --sources")
        }
        guard duration >= 1, duration <= 1e8, warmup >= 0, warmup < duration else {
            throw ValidationError("need 0 <= --warmup < --duration <= 1e8")
        }
        guard (0...1).contains(loss) else { throw ValidationError("--loss is a probability") }
        guard baseDelay >= 0, jitter >= 0, asymmetry >= -baseDelay, firstRequestDelay >= 0, firstRequestDelay <= 10 else {
            throw ValidationError("delays must be non-negative")
        }
        _ = try pollLimits()
    }

    private func pollLimits() throws -> ClosedRange<Int>? {
        if poll == "default" { return nil }
        guard let value = Int(poll), (0...17).contains(value) else {
            throw ValidationError("--poll is 'default' or a log2 interval 0...17")
        }
        return value...value
    }

    private func paths() throws -> (up: DelayModel, down: DelayModel) {
        do {
            let up = try delayUp.map { text throws(DelayExpressionError) in try DelayModel(parsing: text) }
                ?? DelayModel(fixed: baseDelay, exponentialMean: jitter)
            var down = try delayDown.map { text throws(DelayExpressionError) in try DelayModel(parsing: text) }
                ?? DelayModel(fixed: baseDelay, exponentialMean: jitter)
            down.fixed += asymmetry
            return (up, down)
        } catch {
            throw ValidationError("bad delay expression: \(error)")
        }
    }

    func scenario() throws -> SimulationScenario {
        let (up, down) = try paths()
        var servers: [SimulatedServer] = []
        for index in 0..<sources {
            let isFalse = index >= sources - falsetickers
            var server = SimulatedServer(
                up: up, down: down, timeError: isFalse ? falsetickerOffset : 0,
                timeErrorDrift: isFalse ? falsetickerDrift : 0
            )
            if let delayStepAt { server.pathStep = (delayStepAt, delayStep) }
            server.firstRequestExtraDelay = firstRequestDelay
            servers.append(server)
        }
        var discipline = DisciplineConfiguration()
        if let limits = try pollLimits() { discipline.pollLimits = limits }
        if minpoll != nil || maxpoll != nil {
            let lower = minpoll ?? discipline.pollLimits.lowerBound
            let upper = maxpoll ?? max(lower, discipline.pollLimits.upperBound)
            guard lower <= upper else { throw ValidationError("--minpoll must not exceed --maxpoll") }
            discipline.pollLimits = lower...upper
        }
        if let slewPollFactor { discipline.slewPollFactor = slewPollFactor }
        if let minimumSlewTime { discipline.minimumSlewTime = minimumSlewTime }
        if let burstCount { discipline.burstCount = max(0, burstCount) }
        return SimulationScenario(
            servers: servers,
            oscillator: OscillatorModel(
                initialFrequencyError: initialFrequency, wander: wander,
                temperatureAmplitude: temperatureAmplitude, temperaturePeriod: temperaturePeriod
            ),
            initialOffset: initialOffset, loss: loss, duration: duration, warmup: warmup,
            discipline: discipline
        )
    }

    func run() throws {
        if protocolName == "ptp" { return try runPTP() }
        var scenario = try scenario()
        var results: [SimulationResult] = []
        for index in 0..<runs {
            scenario.recordTrace = index == 0 && (csv != nil || plot != nil)
            scenario.recordLog = index == 0 && log
            results.append(Simulator(scenario: scenario, seed: seed &+ UInt64(index)).run())
        }
        if let first = results.first {
            if let csv { try write(OffsetPlot.csv(first.trace), to: csv) }
            if let plot {
                let title = "pendulum simulate: offset from true time (seed \(seed))"
                try write(OffsetPlot.svg(first.trace, title: title), to: plot)
            }
        }
        if log, let first = results.first {
            for (time, message) in first.log { print("\(Self.rounded(time)) s  \(message)") }
        }
        if events, let first = results.first {
            for (time, event) in first.events { print("\(Self.rounded(time)) s  \(event)") }
            for (time, amount) in first.steps { print("\(Self.rounded(time)) s  step \(amount) s") }
        }
        let summary = SimulationSummary(results)
        // Which runs ever let a falseticker survive selection: this should stay zero.
        let falseIDs = Set((sources - falsetickers..<sources).map { SourceID($0) })
        let followed = results.filter { !$0.everSelected.isDisjoint(with: falseIDs) }.count
        print(json ? Self.json(summary, falsetickerRuns: followed) : Self.text(summary, falsetickerRuns: followed))
    }

    private func write(_ text: String, to path: String) throws {
        guard let file = fopen(path, "w") else { throw ValidationError("cannot open \(path) for writing") }
        defer { fclose(file) }
        let bytes = Array(text.utf8)
        guard fwrite(bytes, 1, bytes.count, file) == bytes.count else {
            throw ValidationError("cannot write \(path)")
        }
    }

    static func json(_ summary: SimulationSummary, falsetickerRuns: Int) -> String {
        func number(_ value: Double) -> String { value.isFinite ? "\(value)" : "null" }
        func pair(_ key: String, _ statistic: SimulationSummary.Statistic) -> String {
            "  \"\(key)\": \(number(statistic.mean)),\n  \"\(key)_std\": \(number(statistic.standardDeviation))"
        }
        return """
            {
            \(pair("rms_offset_seconds", summary.rmsOffset)),
            \(pair("max_offset_seconds", summary.maxOffset)),
            \(pair("mean_offset_seconds", summary.meanOffset)),
            \(pair("rms_frequency_error", summary.rmsFrequencyError)),
            \(pair("time_to_sync_seconds", summary.timeToSync)),
            \(pair("mean_poll_interval_seconds", summary.meanPollInterval)),
            \(pair("mean_error_bound_seconds", summary.meanBound)),
              "error_bound_samples": \(summary.boundSamples),
              "error_bound_violations": \(summary.boundViolations),
              "runs": \(summary.runs),
              "runs_never_synchronized": \(summary.runsNeverSynchronized),
              "runs_selecting_a_falseticker": \(falsetickerRuns)
            }
            """
    }

    static func text(_ summary: SimulationSummary, falsetickerRuns: Int) -> String {
        func micro(_ statistic: SimulationSummary.Statistic) -> String {
            "\(rounded(statistic.mean * 1e6)) ± \(rounded(statistic.standardDeviation * 1e6)) µs"
        }
        return """
            runs:               \(summary.runs)
            rms offset:         \(micro(summary.rmsOffset))
            max offset:         \(micro(summary.maxOffset))
            mean offset:        \(micro(summary.meanOffset))
            rms frequency err:  \(rounded(summary.rmsFrequencyError.mean * 1e9)) ± \(rounded(summary.rmsFrequencyError.standardDeviation * 1e9)) ppb
            falseticker chosen: in \(falsetickerRuns) of \(summary.runs) runs
            mean poll interval: \(rounded(summary.meanPollInterval.mean)) s per server
            error bound:        \(micro(summary.meanBound)) on average; true error beyond it \(summary.boundViolations) of \(summary.boundSamples) s
            time to sync:       \(rounded(summary.timeToSync.mean)) ± \(rounded(summary.timeToSync.standardDeviation)) s\
            \(summary.runsNeverSynchronized > 0 ? " (\(summary.runsNeverSynchronized) runs never synchronised)" : "")
            """
    }

    private static func rounded(_ value: Double) -> String {
        guard value.isFinite else { return "n/a" }
        return String((value * 1000).rounded() / 1000)
    }
}
