import PendulumDiscipline
import PendulumTime

/// Runs the discipline core against a simulated clock and network in virtual time.
///
/// Time advances in one-second ticks (the oscillator's random walk steps at each); exchanges
/// happen inside a tick at each server's own phase. Every exchange produces the four NTP
/// timestamps as a real client would see them — T1/T4 from the simulated local clock, T2/T3
/// from the server's — and the same `Measurement(t1:t2:t3:t4:)` integer arithmetic the daemon
/// uses; the discipline's actions then steer the simulated clock.
public struct Simulator: Sendable {
    public let scenario: SimulationScenario
    public let seed: UInt64

    public init(scenario: SimulationScenario, seed: UInt64) {
        self.scenario = scenario
        self.seed = seed
    }

    /// An arbitrary epoch (2023-08-05) so timestamps look real; any would do.
    static let epoch = NTPTimestamp(seconds: 3_900_000_000, fraction: 0)

    public func run() -> SimulationResult {
        var random = SeededGenerator(seed: seed)
        var discipline = ClockDiscipline(configuration: scenario.discipline)
        let servers = scenario.servers
        let ids = servers.indices.map { SourceID($0) }
        var nextPoll = [Double](repeating: 0, count: servers.count)
        // Spread the servers over the second so exchanges do not coincide.
        let phases = servers.indices.map { 0.05 + 0.9 * Double($0) / Double(max(1, servers.count)) }
        for (index, id) in ids.enumerated() {
            let first = discipline.addSource(id, referenceID: UInt32(0x0A00_0001 + index))
            _ = first  // the first poll goes out at once: a fresh daemon starts polling immediately
            nextPoll[index] = phases[index]
        }

        // Local clock: offset from true time (local − true) at `cursor`, frequency correction.
        var offset = scenario.initialOffset
        var cursor = 0.0
        var randomWalk = scenario.oscillator.initialFrequencyError
        var correction = 0.0
        var frequencyError = randomWalk + scenario.oscillator.temperatureTerm(at: 0)
        func advance(to time: Double) {
            offset += (frequencyError + correction) * (time - cursor)
            cursor = time
        }
        func localTime(at time: Double) -> NTPTimestamp {
            let local = time + offset + (frequencyError + correction) * (time - cursor)
            return Self.epoch + NTPDuration(approximateSeconds: local)
        }

        var sumSquares = 0.0
        var sum = 0.0
        var maximum = 0.0
        var frequencySquares = 0.0
        var sampleCount = 0.0
        var lastBadTime: Double? = nil
        var everGood = false
        var trace: [(time: Double, offset: Double)] = []
        if scenario.recordTrace { trace.reserveCapacity(Int(scenario.duration) + 1) }
        var steps: [(time: Double, amount: Double)] = []
        var events: [(time: Double, event: DisciplineEvent)] = []
        var everSelected = Set<SourceID>()
        var everPrimary = Set<SourceID>()
        var announcedLeap = LeapStatus.none
        var polls = 0
        var externalSteps = scenario.externalSteps.sorted { $0.time < $1.time }[...]
        var order = Array(servers.indices)
        order.sort { phases[$0] < phases[$1] }
        let duration = Int(scenario.duration)

        struct Exchange {
            var server: Int
            var sendTime: Double
            var t1: NTPTimestamp
            var t2: NTPTimestamp
            var t3: NTPTimestamp
            var receiveTime: Double
            var leap: Int
        }
        var inFlight: [Exchange] = []

        func send(_ index: Int, at sendTime: Double) {
            let server = servers[index]
            advance(to: sendTime)
            discipline.pollSent(to: ids[index])
            polls += 1
            let upDelay = server.up.sample(&random) + server.extraDelay(at: sendTime)
            let downDelay = server.down.sample(&random) + server.extraDelay(at: sendTime)
            let requestLost = scenario.loss > 0 && random.nextUnit() < scenario.loss
            let replyLost = scenario.loss > 0 && random.nextUnit() < scenario.loss
            let arrival = sendTime + upDelay
            let replyTime = arrival + server.processingTime
            // Until an answer says otherwise, the next poll follows the current interval.
            nextPoll[index] = sendTime + max(1, discipline.nextPollInterval(for: ids[index]).seconds)
            guard !requestLost, !replyLost, !server.isDown(at: arrival) else { return }
            inFlight.append(
                Exchange(
                    server: index, sendTime: sendTime, t1: localTime(at: sendTime),
                    t2: Self.epoch + NTPDuration(approximateSeconds: arrival + server.error(at: arrival)),
                    t3: Self.epoch + NTPDuration(approximateSeconds: replyTime + server.error(at: replyTime)),
                    receiveTime: replyTime + downDelay, leap: arrival >= server.leapFrom ? server.leap : 0
                ))
        }

        func receive(_ exchange: Exchange) {
            let server = servers[exchange.server]
            let id = ids[exchange.server]
            advance(to: exchange.receiveTime)
            let measurement = Measurement(
                t1: exchange.t1, t2: exchange.t2, t3: exchange.t3, t4: localTime(at: exchange.receiveTime),
                rootDelay: .zero, rootDispersion: NTPShort(rawValue: 1),
                stratum: server.stratum, leap: LeapStatus(rawValue: UInt8(exchange.leap & 3)) ?? .none
            )
            let update = discipline.handle(measurement, from: id)
            for action in update.actions {
                switch action {
                case .step(let amount):
                    offset += amount.seconds
                    steps.append((exchange.receiveTime, amount.seconds))
                case .setFrequency(let value):
                    correction = value
                case .setLeap(let status):
                    announcedLeap = status
                }
            }
            for event in update.events { events.append((exchange.receiveTime, event)) }
            nextPoll[exchange.server] = max(
                exchange.receiveTime, exchange.sendTime + max(1, update.nextPollInterval.seconds))
            let system = discipline.system
            if system.synchronized {
                everSelected.formUnion(system.survivors)
                if let primary = system.primary { everPrimary.insert(primary) }
            }
        }

        for second in 0...duration {
            let tick = Double(second)
            advance(to: tick)
            // The oscillator's random walk steps once per second.
            if second > 0 {
                randomWalk += scenario.oscillator.wander * random.normal()
                frequencyError = randomWalk + scenario.oscillator.temperatureTerm(at: tick)
            }
            while let step = externalSteps.first, step.time <= tick {
                offset += step.amount
                externalSteps = externalSteps.dropFirst()
            }
            // Sample the error once per simulated second.
            let error = offset
            if abs(error) >= 1e-3 {
                lastBadTime = tick
            } else {
                everGood = true
            }
            if tick >= scenario.warmup {
                sumSquares += error * error
                sum += error
                maximum = max(maximum, abs(error))
                let frequency = frequencyError + correction
                frequencySquares += frequency * frequency
                sampleCount += 1
            }
            if scenario.recordTrace { trace.append((tick, error)) }
            if second == duration { break }

            // Sends and receives inside this second, in time order; answers may arrive in a
            // later second (slow paths), so they wait in `inFlight`.
            while true {
                var nextSend: Int?
                for index in order where nextPoll[index] < tick + 1 {
                    if let current = nextSend, nextPoll[current] <= nextPoll[index] { continue }
                    nextSend = index
                }
                var nextReceive: Int?
                for (position, exchange) in inFlight.enumerated() where exchange.receiveTime < tick + 1 {
                    if let current = nextReceive, inFlight[current].receiveTime <= exchange.receiveTime { continue }
                    nextReceive = position
                }
                if let position = nextReceive,
                    nextSend.map({ inFlight[position].receiveTime <= max(nextPoll[$0], tick) }) ?? true
                {
                    let exchange = inFlight.remove(at: position)
                    receive(exchange)
                } else if let index = nextSend {
                    send(index, at: max(nextPoll[index], tick))
                } else {
                    break
                }
            }
        }
        let count = max(1, sampleCount)
        let timeToSync: Double? = everGood ? (lastBadTime.map { $0 + 1 } ?? 0) : nil
        return SimulationResult(
            rmsOffset: (sumSquares / count).squareRoot(), maxOffset: maximum, meanOffset: sum / count,
            rmsFrequencyError: (frequencySquares / count).squareRoot(),
            timeToSync: (timeToSync ?? .infinity) > scenario.duration ? nil : timeToSync,
            trace: trace, steps: steps, events: events, everSelected: everSelected, everPrimary: everPrimary,
            polls: polls, duration: scenario.duration, servers: servers.count, announcedLeap: announcedLeap, finalSystem: discipline.system
        )
    }
}
