import PendulumTime

/// What the core asks the shell to do. The shell performs actions in order.
public enum PTPAction: Sendable, Hashable {
    /// Transmit a message on a port. For event messages the shell reports the transmit
    /// timestamp back with `PTPInstance.transmitted(...)` (two-step operation).
    case send(PTPOutgoingMessage)
    /// (Re)arm a port's timer; an armed timer of the same kind is replaced.
    case armTimer(port: UInt16, timer: PTPTimer, after: Duration)
    case cancelTimer(port: UInt16, timer: PTPTimer)
    case stateChanged(port: UInt16, from: PortState, to: PortState)
    /// A new offset-from-master sample for the servo.
    case offsetMeasured(PTPMeasurement)
    /// A new mean path delay from an E2E exchange (before any filtering), with the two legs it
    /// averages: (t2 − t1) less Sync/Follow_Up corrections and (t4 − t3) less Delay_Resp's.
    /// Also after a two-step P2P exchange whose peer is the master itself: then the legs are
    /// Pdelay_Req's (to the master) and Pdelay_Resp's (from it).
    case pathDelayMeasured(port: UInt16, meanPathDelay: PTPTimeInterval, masterToSlave: PTPTimeInterval,
                           slaveToMaster: PTPTimeInterval)
    /// A new mean link delay from a P2P exchange (before any filtering).
    case peerDelayMeasured(port: UInt16, meanLinkDelay: PTPTimeInterval)
    /// The instance now follows a different parent (or itself): a servo should restart.
    case parentChanged(ParentDataset, TimePropertiesDataset)
    /// The grandmaster's timescale, UTC offset or leap flags changed (without a new parent).
    case timePropertiesChanged(TimePropertiesDataset)
}

extension PTPAction {
    /// The offset sample this action carries, if it is one.
    public var measurement: PTPMeasurement? {
        if case .offsetMeasured(let measurement) = self { measurement } else { nil }
    }
}

/// A message to transmit, with its encoding and where it goes.
public struct PTPOutgoingMessage: Sendable, Hashable {
    public var port: UInt16
    public var message: PTPMessage
    public var bytes: [UInt8]
    /// Event messages use UDP port 319 and need a transmit timestamp reported back.
    public var isEvent: Bool { message.messageType.isEvent }
    /// Peer-delay messages go to the link-local peer-delay address (224.0.0.107, ff02::6b,
    /// 01-80-C2-00-00-0E), everything else to the primary one.
    public var isPeerDelay: Bool {
        [.pdelayReq, .pdelayResp, .pdelayRespFollowUp].contains(message.messageType)
    }

    public init(port: UInt16, message: PTPMessage) {
        self.port = port
        self.message = message
        bytes = message.serialized()
    }
}

public enum PTPTimer: Sendable, Hashable {
    case announceReceipt, announceTransmit, syncTransmit, delayRequest, peerDelayRequest, qualification
}

/// One offset-from-master sample with the timestamps it came from, so a servo can filter and
/// time-stamp it.
public struct PTPMeasurement: Sendable, Hashable {
    public var port: UInt16
    /// Local clock − master clock, with the current mean path delay removed (§11.2).
    public var offsetFromMaster: PTPTimeInterval
    /// The same offset in whole nanoseconds over a range of ±292 years, for a clock so far off
    /// that `offsetFromMaster` (±39 h) saturates: a servo steps by this one.
    public var offsetFromMasterNanoseconds: Int64
    /// True when master and local clock are more than ±39 h apart, so `offsetFromMaster` and
    /// the path delay saturated: step by `offsetFromMasterNanoseconds`, distrust the delay.
    public var exceedsIntervalRange: Bool
    /// (t2 − Sync.correction) − (t1 + Follow_Up.correction): offset plus delay, before the
    /// delay is removed; a filter that estimates the delay itself starts from this.
    public var masterToSlave: PTPTimeInterval
    /// The delay estimate that was subtracted: meanPathDelay (E2E) or meanLinkDelay (P2P).
    public var meanPathDelay: PTPTimeInterval
    /// Sync ingress time on the local clock (t2) and the master's corrected origin time (t1).
    public var ingressTimestamp: PTPTimestamp
    public var originTimestamp: PTPTimestamp
    public var syncSequenceId: UInt16
    /// When it was measured on the monotonic clock.
    public var instant: PTPInstant
}

/// Messages the instance did not act on, by reason.
public struct PTPCounters: Sendable, Hashable {
    public var received = 0
    public var malformed = 0
    public var wrongDomain = 0
    public var ownMessages = 0
    public var impossibleTimestamps = 0
    /// Well-formed but not meant for us in this state (wrong parent, unknown sequence, ...).
    public var ignored = 0
    public var tlvsSkipped = 0

    public init() {}
}
