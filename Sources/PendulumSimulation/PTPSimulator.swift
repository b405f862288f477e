import PendulumDiscipline
import PendulumPTP
import PendulumTime

/// A PTP link in virtual time: a grandmaster on true time and a slave-only ordinary clock on a
/// simulated oscillator, both the real `PTPInstance` exchanging serialised messages (E2E,
/// two-step, Delay_Req at the Sync rate), with `PTPServo` steering the slave. Each message's
/// delay is drawn independently from `delay`; transmit and receive timestamps are exact
/// readings of the sender's and receiver's clocks (ideal timestamping, as in the issue's
/// reference figures for ptp4l).
public struct PTPSimulationScenario: Sendable {
    public var logSyncInterval: Int8
    public var delay: DelayModel
    public var oscillator: OscillatorModel
    public var initialOffset: Double
    public var duration: Double
    public var warmup: Double
    public var firstStepThreshold: Double? = 0.00002
    public var stepThreshold: Double? = 0.128
    /// E2E (Delay_Req at the Sync rate) or P2P (Pdelay_Req at the Sync rate).
    public var delayMechanism: DelayMechanism = .e2e

    public init(logSyncInterval: Int8, delay: DelayModel, oscillator: OscillatorModel, initialOffset: Double,
                duration: Double, warmup: Double) {
        self.logSyncInterval = logSyncInterval
        self.delay = delay
        self.oscillator = oscillator
        self.initialOffset = initialOffset
        self.duration = duration
        self.warmup = warmup
    }
}

public struct PTPSimulator: Sendable {
    public let scenario: PTPSimulationScenario
    public let seed: UInt64

    public init(scenario: PTPSimulationScenario, seed: UInt64) {
        self.scenario = scenario
        self.seed = seed
    }

    /// Any epoch far from zero so timestamps look real.
    static let epochSeconds: Int64 = 1_700_000_000

    private enum Side: Int { case master = 0, slave = 1 }

    private enum Event {
        case deliver(bytes: [UInt8], to: Side)
        case timer(side: Side, port: UInt16, timer: PTPTimer)
        case tick(Int)
    }

    private struct Scheduled {
        var time: Double
        var order: Int
        var event: Event
    }

    public func run() -> SimulationResult {
        var random = SeededGenerator(seed: seed)
        let intervals = PTPLogIntervals(logAnnounceInterval: 1, logSyncInterval: scenario.logSyncInterval,
                                        logMinDelayReqInterval: scenario.logSyncInterval,
                                        logMinPdelayReqInterval: scenario.logSyncInterval)
        let portConfiguration = PTPPortConfiguration(portNumber: 1, intervals: intervals,
                                                     delayMechanism: scenario.delayMechanism)
        let masterDefaults = DefaultDataset(clockIdentity: ClockIdentity(rawValue: 0x0000_00FF_FE00_0001),
                                            clockQuality: ClockQuality(clockClass: 6, clockAccuracy: 0x21),
                                            priority1: 1)
        let slaveDefaults = DefaultDataset(clockIdentity: ClockIdentity(rawValue: 0x0000_00FF_FE00_0002), slaveOnly: true)
        var instances = [PTPInstance(defaults: masterDefaults, ports: [portConfiguration]),
                         PTPInstance(defaults: slaveDefaults, ports: [portConfiguration])]
        var servo = PTPServo(logSyncInterval: scenario.logSyncInterval, stepThreshold: scenario.stepThreshold,
                             firstStepThreshold: scenario.firstStepThreshold)

        // The slave clock: offset from true time at `cursor`, and its frequency error + correction.
        var offset = scenario.initialOffset
        var cursor = 0.0
        var randomWalk = scenario.oscillator.initialFrequencyError
        var correction = 0.0
        func advance(to time: Double) {
            offset += (randomWalk + correction) * (time - cursor)
            cursor = time
        }
        func reading(_ side: Side, at time: Double) -> Double {
            side == .master ? time : time + offset + (randomWalk + correction) * (time - cursor)
        }
        func unixTime(_ seconds: Double) -> UnixTime {
            let whole = seconds.rounded(.down)
            return UnixTime(seconds: Self.epochSeconds + Int64(whole), nanoseconds: Int64(((seconds - whole) * 1e9).rounded()))
        }
        func instant(_ time: Double) -> PTPInstant { PTPInstant(nanoseconds: Int64((time * 1e9).rounded())) }

        var queue: [Scheduled] = []
        var order = 0
        var armed: [String: Int] = [:]
        func schedule(_ event: Event, at time: Double) {
            order += 1
            let item = Scheduled(time: time, order: order, event: event)
            let index = queue.firstIndex { ($0.time, $0.order) > (time, order) } ?? queue.endIndex
            queue.insert(item, at: index)
        }

        var sumSquares = 0.0, sum = 0.0, maximum = 0.0, frequencySquares = 0.0, samples = 0.0
        var lastBadTime: Double?
        var everGood = false
        var steps: [(time: Double, amount: Double)] = []
        var syncs = 0

        func perform(_ initial: [PTPAction], side: Side, at time: Double) {
            var pending = initial[...]
            while let action = pending.popFirst() {
                switch action {
                case .send(let outgoing):
                    let other: Side = side == .master ? .slave : .master
                    schedule(.deliver(bytes: outgoing.bytes, to: other), at: time + scenario.delay.sample(&random))
                    if outgoing.isEvent {
                        if side == .master && outgoing.message.messageType == .sync { syncs += 1 }
                        let egress = PTPTimestamp(unixTime(reading(side, at: time)))
                        pending.append(contentsOf: instances[side.rawValue].transmitted(
                            port: outgoing.port, messageType: outgoing.message.messageType,
                            sequenceId: outgoing.message.header.sequenceId, egress: egress, at: instant(time)))
                    }
                case .armTimer(let port, let timer, let after):
                    order += 1
                    armed["\(side.rawValue)-\(timer)"] = order
                    let seconds = Double(after.components.seconds) + Double(after.components.attoseconds) * 1e-18
                    schedule(.timer(side: side, port: port, timer: timer), at: time + seconds)
                case .cancelTimer(_, let timer):
                    armed["\(side.rawValue)-\(timer)"] = nil
                case .offsetMeasured(let measurement) where side == .slave:
                    let update = servo.handle(masterToSlave: measurement.masterToSlave.ntpDuration,
                                              meanPathDelay: measurement.meanPathDelay.ntpDuration,
                                              localTime: unixTime(reading(.slave, at: time)))
                    advance(to: time)
                    for clockAction in update.actions {
                        switch clockAction {
                        case .step(let amount):
                            offset += amount.seconds
                            steps.append((time, amount.seconds))
                        case .setFrequency(let value): correction = value
                        case .setLeap, .setTAIOffset: break
                        }
                    }
                case .pathDelayMeasured(_, _, _, let slaveToMaster) where side == .slave:
                    servo.delayMeasured(slaveToMaster: slaveToMaster.ntpDuration)
                case .parentChanged where side == .slave:
                    servo.restart()
                default:
                    break
                }
            }
        }

        perform(instances[0].start(at: instant(0)), side: .master, at: 0)
        perform(instances[1].start(at: instant(0)), side: .slave, at: 0)
        schedule(.tick(0), at: 0)
        let duration = Int(scenario.duration)
        while !queue.isEmpty {
            let item = queue.removeFirst()
            let time = item.time
            switch item.event {
            case .tick(let second):
                advance(to: time)
                if second > 0 { randomWalk += scenario.oscillator.wander * random.normal() }
                if abs(offset) >= 1e-3 { lastBadTime = time } else { everGood = true }
                if time >= scenario.warmup {
                    sumSquares += offset * offset
                    sum += offset
                    maximum = max(maximum, abs(offset))
                    frequencySquares += (randomWalk + correction) * (randomWalk + correction)
                    samples += 1
                }
                if second < duration { schedule(.tick(second + 1), at: time + 1) } else { queue.removeAll() }
            case .deliver(let bytes, let side):
                let ingress = PTPTimestamp(unixTime(reading(side, at: time)))
                perform(instances[side.rawValue].receive(bytes, onPort: 1, ingress: ingress, at: instant(time)), side: side, at: time)
            case .timer(let side, let port, let timer):
                // Only the latest arming of a timer fires; re-armed or cancelled ones are stale.
                let key = "\(side.rawValue)-\(timer)"
                guard let latest = armed[key], latest == item.order - 1 else { continue }
                armed[key] = nil
                perform(instances[side.rawValue].timerExpired(timer, port: port, at: instant(time)), side: side, at: time)
            }
        }
        let count = max(1, samples)
        let timeToSync: Double? = everGood ? (lastBadTime.map { $0 + 1 } ?? 0) : nil
        return SimulationResult(
            rmsOffset: (sumSquares / count).squareRoot(), maxOffset: maximum, meanOffset: sum / count,
            rmsFrequencyError: (frequencySquares / count).squareRoot(), timeToSync: timeToSync,
            trace: [], steps: steps, events: [], everSelected: [], everPrimary: [], polls: syncs,
            duration: scenario.duration, servers: 1, announcedLeap: .none, finalSystem: servo.discipline.system)
    }
}
