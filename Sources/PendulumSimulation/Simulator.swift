import PendulumDiscipline
import PendulumNTP
import PendulumNTPClient
import PendulumNTPServer
import PendulumTime

/// Runs pendulum-ntpd's client core (`NTPClientCore`: polling, bursts, reply validation,
/// interleaved mode, selection, discipline) against a simulated clock and network in virtual
/// time.
///
/// Time advances in one-second ticks (the oscillator's random walk steps at each); the core's
/// timers and the answers in flight are handled in time order inside a tick. Requests are real
/// NTP packets answered by the daemon's own `NTPServerCore` with the server's T2/T3; T1/T4 come
/// from the simulated local clock; the core's steering actions steer it. What differs from the
/// daemon is only the shell: no sockets, and time is virtual.
public struct Simulator: Sendable {
    public let scenario: SimulationScenario
    public let seed: UInt64

    public init(scenario: SimulationScenario, seed: UInt64) {
        self.scenario = scenario
        self.seed = seed
    }

    /// Where simulated server `index` lives (10.0.x.y): its refid is that address.
    static func address(ofServer index: Int) -> ResolvedAddress {
        ResolvedAddress(ipv4: 10, 0, UInt8(truncatingIfNeeded: index / 250), UInt8(truncatingIfNeeded: index % 250 + 1), port: 123)
    }


    public func run() -> SimulationResult {
        var random = SeededGenerator(seed: seed)
        let servers = scenario.servers
        // The daemon's own client core, fed by simulated servers that answer with the daemon's
        // own server core (interleaved mode included).
        let addresses = servers.indices.map { Self.address(ofServer: $0) }
        var client = NTPClientCore(
            sources: addresses.map { SourceSpecification(host: $0.host, port: $0.port, mode: .server) },
            configuration: scenario.discipline, random: ClientRandomSource(seed: seed ^ 0x5EED_C0DE)
        )
        var serverCores = servers.map { _ in NTPServerCore(configuration: .init(rateLimit: nil)) }
        var serverRandom = ClientRandomSource(seed: seed ^ 0x5E4E_4E45)
        var serverOf: [SourceID: Int] = [:]

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
            return scenario.startTime + NTPDuration(approximateSeconds: local)
        }

        var sumSquares = 0.0
        var sum = 0.0
        var maximum = 0.0
        var frequencySquares = 0.0
        var sampleCount = 0.0
        var lastBadTime: Double? = nil
        var everGood = false
        var boundSamples = 0
        var boundViolations = 0
        var boundSum = 0.0
        var trace: [(time: Double, offset: Double)] = []
        if scenario.recordTrace { trace.reserveCapacity(Int(scenario.duration) + 1) }
        var steps: [(time: Double, amount: Double)] = []
        var events: [(time: Double, event: DisciplineEvent)] = []
        var log: [(time: Double, message: String)] = []
        var everSelected = Set<SourceID>()
        var everPrimary = Set<SourceID>()
        var announcedLeap = LeapIndicator.none
        var polls = 0
        var externalSteps = scenario.externalSteps.sorted { $0.time < $1.time }[...]
        let duration = Int(scenario.duration)

        // Timers in true time; ties go in the order they were set, so a run repeats exactly.
        var timers: [ClientTimer: (time: Double, order: Int)] = [:]
        var timerOrder = 0
        struct Reply {
            var source: SourceID
            var bytes: [UInt8]
            var arrival: Double
        }
        var inFlight: [Reply] = []
        var pathsUsed = Set<Int>()

        func serverTime(_ server: SimulatedServer, at time: Double) -> NTPTimestamp {
            scenario.startTime + NTPDuration(approximateSeconds: time + server.error(at: time))
        }

        /// The network and the server: the request may be lost, the server may be down, the
        /// answer may be lost; otherwise it arrives after the path's delays.
        func transmit(_ request: [UInt8], from id: SourceID, to address: ResolvedAddress, at sendTime: Double) {
            polls += 1
            guard let index = addresses.firstIndex(of: address) else { return }
            serverOf[id] = index
            let server = servers[index]
            var upDelay = server.up.sample(&random) + server.extraDelay(at: sendTime)
            if !pathsUsed.contains(index) {
                pathsUsed.insert(index)
                upDelay += server.firstRequestExtraDelay
            }
            let downDelay = server.down.sample(&random) + server.extraDelay(at: sendTime)
            let requestLost = scenario.loss > 0 && random.nextUnit() < scenario.loss
            let replyLost = scenario.loss > 0 && random.nextUnit() < scenario.loss
            let arrival = sendTime + upDelay
            let replyTime = arrival + server.processingTime
            guard !requestLost, !server.isDown(at: arrival) else { return }
            let receive = serverTime(server, at: arrival)
            let transmit = serverTime(server, at: replyTime)
            let leap = LeapIndicator(rawValue: UInt8((arrival >= server.leapFrom ? server.leap : 0) & 3)) ?? .none
            let state = ServerClockState(
                leap: leap, stratum: server.stratum, referenceID: ReferenceID(ascii: "SIM"), referenceTimestamp: receive,
                rootDelay: .zero, rootDispersion: NTPShort(rawValue: 1), precision: -20, isSynchronized: true
            )
            let decision = serverCores[index].decide(
                request: request, client: address.bytes, receiveTime: receive,
                monotonicNanoseconds: Int64(arrival * 1e9), state: state, keyset: nil, random: &serverRandom,
                transmitTime: { transmit }
            )
            // The answer's real departure, for a later interleaved request.
            serverCores[index].recordTransmit(ofResponseWithReceive: receive, at: transmit)
            guard let reply = decision.reply, !replyLost else { return }
            inFlight.append(Reply(source: id, bytes: reply, arrival: replyTime + downDelay))
        }

        /// Carries out the client core's actions at true time `time`.
        func perform(_ actions: [ClientAction], at time: Double) {
            var pending = actions[...]
            while let action = pending.popFirst() {
                switch action {
                case .send(let bytes, let id, let address):
                    client.transmitted(id, at: localTime(at: time))
                    transmit(bytes, from: id, to: address, at: time)
                case .setTimer(let timer, let delay):
                    timers[timer] = (time + delay.seconds, timerOrder)
                    timerOrder += 1
                case .cancelTimer(let timer):
                    timers[timer] = nil
                case .resolve(let id, let host, let port):
                    let found = addresses.filter { $0.host == host && $0.port == port }
                    pending += client.resolved(id, addresses: found, at: localTime(at: time))
                case .log(_, let message):
                    if scenario.recordLog { log.append((time, message)) }
                case .resolvePool, .runKeyExchange, .forget, .setSynchronized:
                    break  // no pools, NTS or kernel in simulation
                case .steer(.step(let amount)):
                    offset += amount.seconds
                    steps.append((time, amount.seconds))
                case .steer(.setFrequency(let value)):
                    correction = value
                    if scenario.recordLog { log.append((time, "frequency correction \(value * 1e6) ppm")) }
                case .steer(.setLeap(let status)):
                    announcedLeap = status
                case .steer(.setTAIOffset):
                    break
                case .observed(let event):
                    events.append((time, event))
                }
            }
            let system = client.system
            if system.synchronized {
                everSelected.formUnion(system.survivors)
                if let primary = system.primary { everPrimary.insert(primary) }
            }
        }

        perform(client.start(), at: 0)
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
                // The daemon's shell sees such a move against CLOCK_BOOTTIME (LocalClockWatch).
                perform(client.localClockMoved(by: NTPDuration(approximateSeconds: step.amount), at: localTime(at: tick)), at: tick)
            }
            // Sample the error once per simulated second.
            let error = offset
            if abs(error) >= 1e-3 {
                lastBadTime = tick
            } else {
                everGood = true
            }
            // The bound the daemon would publish must hold at every second it is published,
            // warm-up included: a program may read it from the first synchronisation on.
            if let bound = client.errorBound(at: localTime(at: tick)) {
                boundSamples += 1
                if abs(error) > bound.maximumError { boundViolations += 1 }
                if tick >= scenario.warmup { boundSum += bound.maximumError }
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

            // Timers and answers inside this second, in time order; answers may arrive in a
            // later second (slow paths), so they wait in `inFlight`.
            while true {
                let nextTimer = timers.filter { $0.value.time < tick + 1 }.min {
                    ($0.value.time, $0.value.order) < ($1.value.time, $1.value.order)
                }
                var nextReply: Int?
                for (position, reply) in inFlight.enumerated() where reply.arrival < tick + 1 {
                    if let current = nextReply, inFlight[current].arrival <= reply.arrival { continue }
                    nextReply = position
                }
                if let position = nextReply, nextTimer.map({ inFlight[position].arrival <= max($0.value.time, tick) }) ?? true {
                    let reply = inFlight.remove(at: position)
                    advance(to: reply.arrival)
                    perform(client.received(reply.bytes, from: reply.source, at: localTime(at: reply.arrival)), at: reply.arrival)
                } else if let (timer, due) = nextTimer {
                    let time = max(due.time, tick)
                    timers[timer] = nil
                    advance(to: time)
                    perform(client.timerFired(timer, at: localTime(at: time)), at: time)
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
            polls: polls, duration: scenario.duration, servers: servers.count, announcedLeap: announcedLeap, finalSystem: client.system,
            log: log, boundSamples: boundSamples, boundViolations: boundViolations,
            meanBound: sampleCount > 0 ? boundSum / sampleCount : .nan
        )
    }
}
