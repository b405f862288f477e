import PendulumTime

/// One PTP port: its portDS, foreign masters and the exchanges in flight. The instance owns
/// the ports and the clock-wide datasets and passes a snapshot of them in as `PTPInstanceContext`.
public struct PTPPort: Sendable {
    public internal(set) var dataset: PortDataset
    public internal(set) var foreignMasters = ForeignMasterTable()
    /// The latest E2E mean path delay (nil until the first Delay_Resp).
    public internal(set) var meanPathDelay: PTPTimeInterval?
    /// The latest P2P mean link delay (nil until the first complete Pdelay exchange).
    public internal(set) var meanLinkDelay: PTPTimeInterval?

    var nextSequence = SequenceCounters()
    // Slave side of Sync/Follow_Up.
    var pendingSync: PendingSync?
    var earlyFollowUp: EarlyFollowUp?
    var lastSync: CompletedSync?
    // E2E requester.
    var pendingDelayRequest: PendingDelayRequest?
    /// logMinDelayReqInterval dictated by the master in Delay_Resp (§9.5.11.2).
    var masterLogMinDelayReqInterval: Int8?
    // P2P requester.
    var pendingPeerDelay: PendingPeerDelay?
    /// The two legs of the latest complete two-step Pdelay exchange, until the instance has
    /// looked at them (`PTPInstance.masterLegs`).
    var latestPeerLegs: PeerExchangeLegs?
    // Master side: event messages waiting for their transmit timestamp.
    var syncAwaitingTimestamp: UInt16?
    var peerDelayResponsesAwaitingTimestamp: [UInt16: PendingPeerDelayResponse] = [:]

    init(configuration: PTPPortConfiguration, clockIdentity: ClockIdentity) {
        dataset = PortDataset(portIdentity: PortIdentity(clockIdentity: clockIdentity, portNumber: configuration.portNumber),
                              intervals: configuration.intervals, announceReceiptTimeout: configuration.announceReceiptTimeout,
                              delayMechanism: configuration.delayMechanism, masterOnly: configuration.masterOnly)
    }

    public var state: PortState { dataset.portState }
    public var identity: PortIdentity { dataset.portIdentity }
    var number: UInt16 { dataset.portIdentity.portNumber }
    var intervals: PTPLogIntervals { dataset.intervals }

    var announceReceiptTimeout: Duration {
        logIntervalDuration(intervals.logAnnounceInterval, multipliedBy: Int64(dataset.announceReceiptTimeout))
    }

    func message(_ body: PTPMessageBody, sequenceId: UInt16, context: PTPInstanceContext, flags: PTPFlags = [],
                 correction: PTPTimeInterval = .zero) -> PTPMessage {
        PTPMessage(body, source: identity, sequenceId: sequenceId, domainNumber: context.defaults.domainNumber,
                   sdoId: context.defaults.sdoId, intervals: intervals, flags: flags, correction: correction)
    }

    // MARK: state changes

    /// Moves to `newState`, arming and cancelling the timers each state runs (§9.2.5).
    mutating func enter(_ newState: PortState, context: PTPInstanceContext, qualificationTimeout: Duration = .zero) -> [PTPAction] {
        let oldState = state
        guard newState != oldState else { return [] }
        dataset.portState = newState
        var actions: [PTPAction] = [.stateChanged(port: number, from: oldState, to: newState)]
        let port = number
        let isSlaveLike = newState == .slave || newState == .uncalibrated
        if !isSlaveLike || oldState == .slave && newState == .uncalibrated {
            resetSlaveExchanges()
        }
        if newState != .master { syncAwaitingTimestamp = nil }
        switch newState {
        case .listening, .uncalibrated, .slave, .passive:
            actions.append(.armTimer(port: port, timer: .announceReceipt, after: announceReceiptTimeout))
            actions.append(.cancelTimer(port: port, timer: .announceTransmit))
            actions.append(.cancelTimer(port: port, timer: .syncTransmit))
            actions.append(.cancelTimer(port: port, timer: .qualification))
            if isSlaveLike && dataset.delayMechanism == .e2e {
                if !(oldState == .slave || oldState == .uncalibrated) {
                    actions.append(.armTimer(port: port, timer: .delayRequest, after: delayRequestInterval))
                }
            } else {
                actions.append(.cancelTimer(port: port, timer: .delayRequest))
            }
        case .preMaster:
            actions.append(.cancelTimer(port: port, timer: .announceReceipt))
            actions.append(.cancelTimer(port: port, timer: .delayRequest))
            actions.append(.armTimer(port: port, timer: .qualification, after: qualificationTimeout))
        case .master:
            actions.append(.cancelTimer(port: port, timer: .announceReceipt))
            actions.append(.cancelTimer(port: port, timer: .delayRequest))
            actions.append(.cancelTimer(port: port, timer: .qualification))
            actions.append(.armTimer(port: port, timer: .announceTransmit, after: .zero))
            actions.append(.armTimer(port: port, timer: .syncTransmit, after: .zero))
        case .initializing, .faulty, .disabled:
            for timer in [PTPTimer.announceReceipt, .announceTransmit, .syncTransmit, .delayRequest, .peerDelayRequest, .qualification] {
                actions.append(.cancelTimer(port: port, timer: timer))
            }
            foreignMasters.removeAll()
            pendingPeerDelay = nil
            peerDelayResponsesAwaitingTimestamp = [:]
        }
        // The peer-delay mechanism runs in every operational state (§11.4.1).
        let peerDelayRuns = dataset.delayMechanism == .p2p && ![.initializing, .faulty, .disabled].contains(newState)
        let peerDelayRan = dataset.delayMechanism == .p2p && ![.initializing, .faulty, .disabled].contains(oldState)
        if peerDelayRuns && !peerDelayRan {
            actions.append(.armTimer(port: port, timer: .peerDelayRequest, after: .zero))
        }
        return actions
    }

    mutating func resetSlaveExchanges() {
        pendingSync = nil
        earlyFollowUp = nil
        lastSync = nil
        pendingDelayRequest = nil
        meanPathDelay = nil
        masterLogMinDelayReqInterval = nil
    }

    var delayRequestInterval: Duration {
        logIntervalDuration(masterLogMinDelayReqInterval ?? intervals.logMinDelayReqInterval)
    }
}

struct SequenceCounters: Sendable {
    var announce: UInt16 = 0
    var sync: UInt16 = 0
    var delayRequest: UInt16 = 0
    var peerDelayRequest: UInt16 = 0

    /// Returns the current value and advances, wrapping as sequenceId does (§7.3.7).
    static func take(_ counter: inout UInt16) -> UInt16 {
        defer { counter &+= 1 }
        return counter
    }
}

/// A received Sync whose origin time is still to come (two-step) or is complete.
struct PendingSync: Sendable {
    var sequenceId: UInt16
    var source: PortIdentity
    var ingress: PTPTimestamp
    var correction: PTPTimeInterval
}

struct EarlyFollowUp: Sendable {
    var sequenceId: UInt16
    var source: PortIdentity
    var preciseOrigin: PTPTimestamp
    var correction: PTPTimeInterval
}

/// t1 and t2 of the latest Sync with the corrections applied: t2 − t1 is masterToSlave.
struct CompletedSync: Sendable {
    var sequenceId: UInt16
    var origin: PTPTimestamp
    var ingress: PTPTimestamp
    /// (t2 − Sync.correction) − (t1 + Follow_Up.correction).
    var masterToSlave: PTPTimeInterval
}

struct PendingDelayRequest: Sendable {
    var sequenceId: UInt16
    /// t3, once the shell reports the transmit timestamp.
    var egress: PTPTimestamp?
    /// t4 and −Delay_Resp.correction, once the response is in (it may overtake the transmit
    /// timestamp).
    var receipt: PTPTimestamp?
    var receiptCorrection: PTPTimeInterval?
}

struct PendingPeerDelay: Sendable {
    var sequenceId: UInt16
    var t1: PTPTimestamp?
    var t4: PTPTimestamp?
    var responder: PortIdentity?
    /// t2 from a two-step Pdelay_Resp, until its Follow_Up brings t3.
    var requestReceipt: PTPTimestamp?
    /// t3 − t2 (zero for a one-step responder, whose correction holds it).
    var turnaround: PTPTimeInterval?
    /// Pdelay_Resp.correction + Pdelay_Resp_Follow_Up.correction.
    var corrections: PTPTimeInterval = .zero
    var awaitingFollowUp = false
}

/// A two-step peer-delay exchange split into its legs: request (t2 − t1, to the peer) and
/// response (t4 − t3, from it), the corrections shared out evenly.
struct PeerExchangeLegs: Sendable {
    var responder: PortIdentity
    var meanLinkDelay: PTPTimeInterval
    var requestLeg: PTPTimeInterval
    var responseLeg: PTPTimeInterval
}

struct PendingPeerDelayResponse: Sendable {
    var requester: PortIdentity
    var requestCorrection: PTPTimeInterval
    var domainNumber: UInt8
    var sdoId: UInt16
}

/// The clock-wide datasets a port reads while handling an event.
struct PTPInstanceContext: Sendable {
    var defaults: DefaultDataset
    var current: CurrentDataset
    var parent: ParentDataset
    var timeProperties: TimePropertiesDataset
}
