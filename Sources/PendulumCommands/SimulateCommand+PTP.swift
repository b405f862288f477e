import ArgumentParser
import PendulumDiscipline
import PendulumPTP
import PendulumSimulation

/// `pendulum simulate --protocol ptp`: the same oscillator model against a PTP grandmaster,
/// two-step, E2E with Delay_Req at the Sync rate (or P2P: Pdelay_Req at the Sync rate), both ends the real PTP core. Each message's
/// delay follows --delay-up (or --base-delay plus exponential --jitter), both directions alike.
@available(macOS 13, *)
extension SimulateCommand {
    func runPTP() throws {
        guard protocolName == "ptp" else { throw ValidationError("--protocol is ntp or ptp") }
        guard (-7...4).contains(syncInterval) else { throw ValidationError("--sync-interval is a log2 interval -7...4") }
        let delay: DelayModel
        do {
            delay = try delayUp.map { text throws(DelayExpressionError) in try DelayModel(parsing: text) }
                ?? DelayModel(fixed: baseDelay, exponentialMean: jitter)
        } catch {
            throw ValidationError("bad delay expression: \(error)")
        }
        let mechanism: DelayMechanism
        switch delayMechanism {
        case "e2e": mechanism = .e2e
        case "p2p": mechanism = .p2p
        default: throw ValidationError("--delay-mechanism is e2e or p2p")
        }
        var scenario = PTPSimulationScenario(
            logSyncInterval: Int8(syncInterval), delay: delay,
            oscillator: OscillatorModel(initialFrequencyError: initialFrequency, wander: wander,
                                        temperatureAmplitude: temperatureAmplitude, temperaturePeriod: temperaturePeriod),
            initialOffset: initialOffset, duration: duration, warmup: warmup)
        scenario.delayMechanism = mechanism
        let results = (0..<runs).map { PTPSimulator(scenario: scenario, seed: seed &+ UInt64($0)).run() }
        let summary = SimulationSummary(results)
        print(json ? Self.json(summary, falsetickerRuns: 0) : Self.text(summary, falsetickerRuns: 0))
    }
}
