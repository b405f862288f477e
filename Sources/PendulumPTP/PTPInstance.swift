import PendulumTime

/// A PTP instance (ordinary clock with one port, boundary clock with several): the clock-wide
/// datasets, its ports, the BMCA and the receive-side filtering.
///
/// Sans-I/O. The shell (daemon or simulator) calls:
/// - `start(at:)` once;
/// - `receive(_:onPort:ingress:at:)` for every datagram, with its receive timestamp on the
///   disciplined clock (PTP timescale);
/// - `transmitted(port:messageType:sequenceId:egress:at:)` with the transmit timestamp of every
///   event message it sent;
/// - `timerExpired(_:port:at:)` when a timer it armed fires;
/// - `fault(port:at:)` / `faultCleared(port:at:)` on link or socket failures;
/// and performs the returned actions in order. `PTPInstant` is the shell's monotonic clock.
public struct PTPInstance: Sendable {
    public private(set) var defaults: DefaultDataset
    public private(set) var current = CurrentDataset()
    public private(set) var parent: ParentDataset
    public private(set) var timeProperties: TimePropertiesDataset
    /// What this instance announces when it is grandmaster.
    public var localTimeProperties: TimePropertiesDataset
    public private(set) var ports: [PTPPort]
    public private(set) var counters = PTPCounters()

    public init(defaults: DefaultDataset, localTimeProperties: TimePropertiesDataset = TimePropertiesDataset(),
                ports configurations: [PTPPortConfiguration]) {
        var defaults = defaults
        defaults.numberPorts = UInt16(truncatingIfNeeded: configurations.count)
        self.defaults = defaults
        parent = ParentDataset(ownClock: defaults)
        timeProperties = localTimeProperties
        self.localTimeProperties = localTimeProperties
        ports = configurations.map { PTPPort(configuration: $0, clockIdentity: defaults.clockIdentity) }
    }

    var context: PTPInstanceContext {
        PTPInstanceContext(defaults: defaults, current: current, parent: parent, timeProperties: timeProperties)
    }

    public func port(_ number: UInt16) -> PTPPort? { ports.first { $0.number == number } }

    /// Port numbers and states, in configuration order (for status reports).
    public var portStates: [(port: UInt16, state: PortState)] { ports.map { ($0.number, $0.state) } }

    private func index(of number: UInt16) -> Int? { ports.firstIndex { $0.number == number } }

    // MARK: events

    /// INITIALIZING → LISTENING on every port (§9.2.6.3).
    public mutating func start(at now: PTPInstant) -> [PTPAction] {
        var actions: [PTPAction] = []
        for index in ports.indices where ports[index].state == .initializing {
            let context = self.context
            actions += ports[index].enter(.listening, context: context)
        }
        return actions
    }

    public mutating func fault(port number: UInt16, at now: PTPInstant) -> [PTPAction] {
        guard let index = index(of: number) else { return [] }
        let context = self.context
        var actions = ports[index].enter(.faulty, context: context)
        actions += runStateDecision(at: now)
        return actions
    }

    /// FAULT_CLEARED: FAULTY → INITIALIZING → LISTENING.
    public mutating func faultCleared(port number: UInt16, at now: PTPInstant) -> [PTPAction] {
        guard let index = index(of: number), ports[index].state == .faulty else { return [] }
        let context = self.context
        return ports[index].enter(.initializing, context: context) + ports[index].enter(.listening, context: context)
    }

    public mutating func timerExpired(_ timer: PTPTimer, port number: UInt16, at now: PTPInstant) -> [PTPAction] {
        guard let index = index(of: number) else { return [] }
        let context = self.context
        switch timer {
        case .announceTransmit: return ports[index].announceTimerExpired(context: context)
        case .syncTransmit: return ports[index].syncTimerExpired(context: context)
        case .delayRequest: return ports[index].delayRequestTimerExpired(context: context)
        case .peerDelayRequest: return ports[index].peerDelayTimerExpired(context: context)
        case .qualification:
            guard ports[index].state == .preMaster else { return [] }
            return ports[index].enter(.master, context: context)
        case .announceReceipt:
            return announceReceiptTimeout(portIndex: index, at: now)
        }
    }

    public mutating func transmitted(port number: UInt16, messageType: PTPMessageType, sequenceId: UInt16,
                                     egress: PTPTimestamp, at now: PTPInstant) -> [PTPAction] {
        guard let index = index(of: number) else { return [] }
        guard egress.isValid else {
            counters.impossibleTimestamps += 1
            return []
        }
        let context = self.context
        switch messageType {
        case .sync: return ports[index].syncTransmitted(sequenceId: sequenceId, egress: egress, context: context)
        case .delayReq: return ports[index].delayRequestTransmitted(sequenceId: sequenceId, egress: egress)
        case .pdelayReq:
            let actions = ports[index].peerDelayRequestTransmitted(sequenceId: sequenceId, egress: egress)
            return actions + masterLegs(after: actions, portIndex: index)
        case .pdelayResp:
            return ports[index].peerDelayResponseTransmitted(sequenceId: sequenceId, egress: egress, context: context)
        default: return []
        }
    }

    /// One received datagram. Malformed input, other domains and sdoIds, our own looped-back
    /// messages and impossible timestamps are dropped and counted (§7.1, §9.5.2).
    public mutating func receive(_ bytes: [UInt8], onPort number: UInt16, ingress: PTPTimestamp?,
                                 at now: PTPInstant) -> [PTPAction] {
        counters.received += 1
        guard let index = index(of: number) else { counters.ignored += 1; return [] }
        let message: PTPMessage
        do {
            message = try PTPMessage(parsing: bytes)
        } catch {
            counters.malformed += 1
            return []
        }
        let header = message.header
        guard header.domainNumber == defaults.domainNumber, header.sdoId == defaults.sdoId else {
            counters.wrongDomain += 1
            return []
        }
        guard header.sourcePortIdentity.clockIdentity != defaults.clockIdentity else {
            counters.ownMessages += 1
            return []
        }
        guard message.body.timestamps.allSatisfy(\.isValid), ingress?.isValid ?? true else {
            counters.impossibleTimestamps += 1
            return []
        }
        counters.tlvsSkipped += message.tlvs.count
        let state = ports[index].state
        guard ![.initializing, .faulty, .disabled].contains(state) else { counters.ignored += 1; return [] }
        if message.messageType.isEvent && ingress == nil { counters.ignored += 1; return [] }

        let context = self.context
        var result: [PTPAction]?
        switch message.body {
        case .announce(let announce):
            result = receiveAnnounce(announce, header: header, portIndex: index, at: now)
        case .sync(let origin):
            if let ingress { result = ports[index].receiveSync(message, originTimestamp: origin, ingress: ingress, context: context, now: now) }
        case .followUp(let origin):
            result = ports[index].receiveFollowUp(message, preciseOrigin: origin, context: context, now: now)
        case .delayReq:
            if let ingress { result = ports[index].answerDelayRequest(message, ingress: ingress, context: context) }
        case .delayResp(let receiveTimestamp, let requester):
            result = ports[index].receiveDelayResponse(message, receiveTimestamp: receiveTimestamp, requester: requester, context: context)
        case .pdelayReq:
            if let ingress { result = ports[index].answerPeerDelayRequest(message, ingress: ingress, context: context) }
        case .pdelayResp(let requestReceipt, let requester):
            if let ingress {
                result = ports[index].receivePeerDelayResponse(message, requestReceipt: requestReceipt, requester: requester, ingress: ingress)
            }
        case .pdelayRespFollowUp(let responseOrigin, let requester):
            result = ports[index].receivePeerDelayResponseFollowUp(message, responseOrigin: responseOrigin, requester: requester)
        case .signaling, .management:
            // Parsed and skipped: no unicast negotiation or management agent yet.
            result = nil
        }
        guard var actions = result else {
            counters.ignored += 1
            return []
        }
        actions += masterLegs(after: actions, portIndex: index)
        if let measurement = actions.lazy.compactMap(\.measurement).first {
            current.offsetFromMaster = measurement.offsetFromMaster
            current.meanPathDelay = measurement.meanPathDelay
            // UNCALIBRATED → SLAVE once the first offset is measured (MASTER_CLOCK_SELECTED, §9.2.6.14).
            if ports[index].state == .uncalibrated {
                actions += ports[index].enter(.slave, context: self.context)
            }
        }
        return actions
    }

    /// When a slave port's peer is the master itself (no clock between them), a two-step
    /// peer-delay exchange is a path-delay exchange with the master: its request leg is the
    /// slave-to-master leg an E2E Delay_Req would give. Reported like one, so a servo can pair
    /// each Sync with it (NTP's four timestamps) instead of subtracting a noisy link delay.
    private mutating func masterLegs(after actions: [PTPAction], portIndex index: Int) -> [PTPAction] {
        guard actions.contains(where: { if case .peerDelayMeasured = $0 { true } else { false } }),
              let legs = ports[index].latestPeerLegs else { return [] }
        ports[index].latestPeerLegs = nil
        guard [.slave, .uncalibrated].contains(ports[index].state),
              legs.responder.clockIdentity == parent.parentPortIdentity.clockIdentity else { return [] }
        return [.pathDelayMeasured(port: ports[index].number, meanPathDelay: legs.meanLinkDelay,
                                   masterToSlave: legs.responseLeg, slaveToMaster: legs.requestLeg)]
    }

    // MARK: BMCA

    private mutating func receiveAnnounce(_ announce: PTPAnnounceBody, header: PTPHeader, portIndex index: Int,
                                          at now: PTPInstant) -> [PTPAction]? {
        // Announces that already crossed 255 clocks, or are from a port we cannot be slave of, are
        // not foreign masters (§9.3.2.5).
        guard announce.stepsRemoved < 255 else { return nil }
        var port = ports[index]
        let recorded = port.foreignMasters.record(announce, header: header, at: now,
                                                  localLogAnnounceInterval: port.intervals.logAnnounceInterval)
        ports[index] = port
        guard recorded else { return nil }
        var actions: [PTPAction] = []
        let state = port.state
        let fromParent = header.sourcePortIdentity == parent.parentPortIdentity
        if (state == .slave || state == .uncalibrated) && fromParent || state == .listening || state == .passive {
            let log = ForeignMasterTable.effectiveLogInterval(local: port.intervals.logAnnounceInterval,
                                                              announced: header.logMessageInterval)
            let timeout = logIntervalDuration(log, multipliedBy: Int64(port.dataset.announceReceiptTimeout))
            actions.append(.armTimer(port: port.number, timer: .announceReceipt, after: timeout))
        }
        return actions + runStateDecision(at: now)
    }

    private mutating func announceReceiptTimeout(portIndex index: Int, at now: PTPInstant) -> [PTPAction] {
        let state = ports[index].state
        guard [.listening, .uncalibrated, .slave, .passive].contains(state) else { return [] }
        // The master we listened to on this port is gone: forget what it said (§9.2.6.12).
        ports[index].foreignMasters.removeAll()
        if defaults.slaveOnly {
            let context = self.context
            var actions = ports[index].enter(.listening, context: context)
            if state == .listening {
                actions.append(.armTimer(port: ports[index].number, timer: .announceReceipt,
                                         after: ports[index].announceReceiptTimeout))
            }
            return actions + runStateDecision(at: now)
        }
        return runStateDecision(at: now, timedOutPort: index)
    }

    /// Runs Figure 33 for every port and applies the recommendations and dataset updates (§9.3.5).
    @discardableResult
    public mutating func runStateDecision(at now: PTPInstant) -> [PTPAction] {
        runStateDecision(at: now, timedOutPort: nil)
    }

    private mutating func runStateDecision(at now: PTPInstant, timedOutPort: Int?) -> [PTPAction] {
        let operational: [Int] = ports.indices.filter { ![.initializing, .faulty, .disabled].contains(ports[$0].state) }
        let inputs = operational.map { index in
            StateDecision.PortInput(portIdentity: ports[index].identity, state: ports[index].state,
                                    qualifiedRecords: ports[index].foreignMasters.qualified(at: now),
                                    masterOnly: ports[index].dataset.masterOnly,
                                    announceReceiptTimedOut: index == timedOutPort)
        }
        let recommendations = StateDecision.decide(defaults: defaults, ports: inputs)
        var actions: [PTPAction] = []

        // Dataset updates first: every port then acts on the new parent (§9.3.5, Table 30–33).
        let slaveRecord = recommendations.lazy.compactMap { if case .slave(let record) = $0 { record } else { nil } }.first
        let previousParent = parent
        let previousTimeProperties = timeProperties
        if let record = slaveRecord {
            let announce = record.latest
            current.stepsRemoved = announce.stepsRemoved &+ 1
            parent = ParentDataset(parentPortIdentity: record.sender, grandmasterIdentity: announce.grandmasterIdentity,
                                   grandmasterClockQuality: announce.grandmasterClockQuality,
                                   grandmasterPriority1: announce.grandmasterPriority1,
                                   grandmasterPriority2: announce.grandmasterPriority2)
            timeProperties = TimePropertiesDataset(announce: announce, flags: record.latestFlags)
        } else {
            // No port is slave: this instance is its own grandmaster (M1/M2; P1 only arises then too).
            current.stepsRemoved = 0
            parent = ParentDataset(ownClock: defaults)
            timeProperties = localTimeProperties
        }
        if parent != previousParent {
            actions.append(.parentChanged(parent, timeProperties))
        } else if timeProperties != previousTimeProperties {
            actions.append(.timePropertiesChanged(timeProperties))
        }

        for (position, index) in operational.enumerated() {
            actions += apply(recommendations[position], portIndex: index, parentChanged: parent.parentPortIdentity != previousParent.parentPortIdentity)
        }
        return actions
    }

    private mutating func apply(_ recommendation: StateDecision.Recommendation, portIndex index: Int,
                                parentChanged: Bool) -> [PTPAction] {
        let context = self.context
        let state = ports[index].state
        switch recommendation {
        case .listening:
            return []
        case .master(let code):
            if defaults.slaveOnly {
                return state == .listening ? [] : ports[index].enter(.listening, context: context)
            }
            guard state != .master && state != .preMaster else { return [] }
            if code == .m3 {
                // A master of a link behind a better path waits out a qualification period (§9.2.6.11).
                let steps = Int64(current.stepsRemoved) + 1
                let timeout = logIntervalDuration(ports[index].intervals.logAnnounceInterval, multipliedBy: steps)
                return ports[index].enter(.preMaster, context: context, qualificationTimeout: timeout)
            }
            return ports[index].enter(.master, context: context)
        case .passive:
            return ports[index].enter(.passive, context: context)
        case .slave:
            // A new parent means new measurements: recalibrate (MASTER_CLOCK_SELECTED, §9.2.6.14).
            if state == .slave && parentChanged {
                return ports[index].enter(.uncalibrated, context: context)
            }
            if state == .slave || state == .uncalibrated { return [] }
            return ports[index].enter(.uncalibrated, context: context)
        }
    }
}
