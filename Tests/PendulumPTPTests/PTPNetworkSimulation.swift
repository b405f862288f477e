import PendulumTime
@testable import PendulumPTP

/// Runs PTP instances against each other in virtual time: messages cross links with chosen
/// delays, each node has a clock with a fixed offset from true time, transmit timestamps are
/// reported at once, timers fire exactly when due.
struct PTPNetworkSimulation {
    struct Endpoint: Hashable {
        var node: Int
        var port: UInt16
    }

    struct Link {
        var to: Endpoint
        var delayNanoseconds: Int64
        /// Residence time a transparent clock on the way adds to the delay and to correctionField.
        var residenceNanoseconds: Int64 = 0
    }

    enum Event {
        case timer(node: Int, port: UInt16, timer: PTPTimer, generation: Int)
        case delivery(to: Endpoint, bytes: [UInt8])
    }

    static let epochSeconds: UInt64 = 1_764_000_037  // some TAI second in 2025

    var nodes: [PTPInstance]
    /// Local clock − true time, per node.
    var clockOffsets: [Int64]
    var links: [Endpoint: Link] = [:]
    var now: Int64 = 0
    var queue: [(time: Int64, order: Int, event: Event)] = []
    var order = 0
    var timerGenerations: [String: Int] = [:]
    var measurements: [Int: [PTPMeasurement]] = [:]
    var pathDelays: [Int: [PTPTimeInterval]] = [:]
    var peerDelays: [Int: [PTPTimeInterval]] = [:]
    var sentTypes: [Int: [PTPMessageType]] = [:]
    var sentMessages: [Int: [PTPMessage]] = [:]
    var stateChanges: [Int: [(UInt16, PortState)]] = [:]

    init(nodes: [PTPInstance], clockOffsets: [Int64]) {
        self.nodes = nodes
        self.clockOffsets = clockOffsets
    }

    /// Connects two ports in both directions.
    mutating func connect(_ a: Endpoint, _ b: Endpoint, aToB: Int64, bToA: Int64, residence: Int64 = 0) {
        links[a] = Link(to: b, delayNanoseconds: aToB, residenceNanoseconds: residence)
        links[b] = Link(to: a, delayNanoseconds: bToA, residenceNanoseconds: residence)
    }

    mutating func disconnect(_ a: Endpoint) {
        if let link = links.removeValue(forKey: a) { links.removeValue(forKey: link.to) }
    }

    func localTime(of node: Int) -> PTPTimestamp {
        PTPTimestamp(seconds: Self.epochSeconds, nanoseconds: 0).adding(nanoseconds: now + clockOffsets[node])
    }

    var instant: PTPInstant { PTPInstant(nanoseconds: now) }

    mutating func schedule(_ event: Event, at time: Int64) {
        order += 1
        queue.append((time, order, event))
    }

    mutating func start() {
        for node in nodes.indices {
            let actions = nodes[node].start(at: instant)
            perform(actions, node: node)
        }
    }

    mutating func run(untilSeconds seconds: Int64) {
        let end = seconds * 1_000_000_000
        while let next = queue.indices.min(by: { (queue[$0].time, queue[$0].order) < (queue[$1].time, queue[$1].order) }),
              queue[next].time <= end {
            let (time, _, event) = queue.remove(at: next)
            now = time
            switch event {
            case .timer(let node, let port, let timer, let generation):
                guard timerGenerations["\(node)/\(port)/\(timer)"] == generation else { continue }
                timerGenerations["\(node)/\(port)/\(timer)"] = nil
                perform(nodes[node].timerExpired(timer, port: port, at: instant), node: node)
            case .delivery(let to, let bytes):
                let actions = nodes[to.node].receive(bytes, onPort: to.port, ingress: localTime(of: to.node), at: instant)
                perform(actions, node: to.node)
            }
        }
        now = end
    }

    mutating func perform(_ actions: [PTPAction], node: Int) {
        for action in actions {
            switch action {
            case .send(let outgoing):
                sentTypes[node, default: []].append(outgoing.message.messageType)
                sentMessages[node, default: []].append(outgoing.message)
                let from = Endpoint(node: node, port: outgoing.port)
                if let link = links[from] {
                    var bytes = outgoing.bytes
                    let type = outgoing.message.messageType
                    if link.residenceNanoseconds != 0 && (type == .sync || type == .delayReq) {
                        var message = outgoing.message
                        message.header.correction += .nanoseconds(link.residenceNanoseconds)
                        bytes = message.serialized()
                    }
                    schedule(.delivery(to: link.to, bytes: bytes), at: now + link.delayNanoseconds + link.residenceNanoseconds)
                }
                if outgoing.isEvent {
                    let followUps = nodes[node].transmitted(port: outgoing.port, messageType: outgoing.message.messageType,
                                                            sequenceId: outgoing.message.header.sequenceId,
                                                            egress: localTime(of: node), at: instant)
                    perform(followUps, node: node)
                }
            case .armTimer(let port, let timer, let after):
                let key = "\(node)/\(port)/\(timer)"
                let generation = (timerGenerations[key] ?? 0) + order + 1
                timerGenerations[key] = generation
                let (seconds, attoseconds) = after.components
                schedule(.timer(node: node, port: port, timer: timer, generation: generation),
                         at: now + seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
            case .cancelTimer(let port, let timer):
                timerGenerations["\(node)/\(port)/\(timer)"] = nil
            case .stateChanged(let port, _, let to):
                stateChanges[node, default: []].append((port, to))
            case .offsetMeasured(let measurement):
                measurements[node, default: []].append(measurement)
            case .pathDelayMeasured(_, let delay, _, _):
                pathDelays[node, default: []].append(delay)
            case .peerDelayMeasured(_, let delay):
                peerDelays[node, default: []].append(delay)
            case .parentChanged, .timePropertiesChanged:
                break
            }
        }
    }
}
