import PendulumTime

/// The fixed part of each message type after the header (§13.5–§13.12).
public enum PTPMessageBody: Sendable, Hashable {
    case sync(originTimestamp: PTPTimestamp)
    case delayReq(originTimestamp: PTPTimestamp)
    /// The 10 reserved bytes are kept only so that what was parsed serialises back unchanged.
    case pdelayReq(originTimestamp: PTPTimestamp, reserved: PTPReservedBytes)
    case pdelayResp(requestReceiptTimestamp: PTPTimestamp, requestingPortIdentity: PortIdentity)
    case followUp(preciseOriginTimestamp: PTPTimestamp)
    case delayResp(receiveTimestamp: PTPTimestamp, requestingPortIdentity: PortIdentity)
    case pdelayRespFollowUp(responseOriginTimestamp: PTPTimestamp, requestingPortIdentity: PortIdentity)
    case announce(PTPAnnounceBody)
    case signaling(targetPortIdentity: PortIdentity)
    case management(PTPManagementBody)

    public var messageType: PTPMessageType {
        switch self {
        case .sync: .sync
        case .delayReq: .delayReq
        case .pdelayReq: .pdelayReq
        case .pdelayResp: .pdelayResp
        case .followUp: .followUp
        case .delayResp: .delayResp
        case .pdelayRespFollowUp: .pdelayRespFollowUp
        case .announce: .announce
        case .signaling: .signaling
        case .management: .management
        }
    }

    /// Every timestamp the body carries, for plausibility checks.
    public var timestamps: [PTPTimestamp] {
        switch self {
        case .sync(let t), .delayReq(let t), .pdelayReq(let t, _), .followUp(let t): [t]
        case .pdelayResp(let t, _), .delayResp(let t, _), .pdelayRespFollowUp(let t, _): [t]
        case .announce(let body): [body.originTimestamp]
        case .signaling, .management: []
        }
    }
}

/// Reserved bytes preserved for byte-exact round trips; normally zero.
public struct PTPReservedBytes: Sendable, Hashable {
    public var bytes: [UInt8]
    public init(_ bytes: [UInt8] = Array(repeating: 0, count: 10)) { self.bytes = bytes }
}

/// Announce body (§13.5): the sender's view of its grandmaster, input to the BMCA.
public struct PTPAnnounceBody: Sendable, Hashable {
    public var originTimestamp: PTPTimestamp
    public var currentUtcOffset: Int16
    public var reserved: UInt8
    public var grandmasterPriority1: UInt8
    public var grandmasterClockQuality: ClockQuality
    public var grandmasterPriority2: UInt8
    public var grandmasterIdentity: ClockIdentity
    public var stepsRemoved: UInt16
    public var timeSource: UInt8

    public init(originTimestamp: PTPTimestamp = .zero, currentUtcOffset: Int16, reserved: UInt8 = 0,
                grandmasterPriority1: UInt8, grandmasterClockQuality: ClockQuality, grandmasterPriority2: UInt8,
                grandmasterIdentity: ClockIdentity, stepsRemoved: UInt16, timeSource: UInt8) {
        self.originTimestamp = originTimestamp
        self.currentUtcOffset = currentUtcOffset
        self.reserved = reserved
        self.grandmasterPriority1 = grandmasterPriority1
        self.grandmasterClockQuality = grandmasterClockQuality
        self.grandmasterPriority2 = grandmasterPriority2
        self.grandmasterIdentity = grandmasterIdentity
        self.stepsRemoved = stepsRemoved
        self.timeSource = timeSource
    }
}

/// Management body (§15.4.1) before its TLV (normally one MANAGEMENT TLV).
public struct PTPManagementBody: Sendable, Hashable {
    public var targetPortIdentity: PortIdentity
    public var startingBoundaryHops: UInt8
    public var boundaryHops: UInt8
    /// Byte 46 as on the wire: reserved high nibble, actionField low nibble.
    public var actionByte: UInt8
    public var reserved: UInt8

    public init(targetPortIdentity: PortIdentity, startingBoundaryHops: UInt8, boundaryHops: UInt8,
                action: PTPManagementAction, reserved: UInt8 = 0) {
        self.targetPortIdentity = targetPortIdentity
        self.startingBoundaryHops = startingBoundaryHops
        self.boundaryHops = boundaryHops
        actionByte = action.rawValue
        self.reserved = reserved
    }

    init(targetPortIdentity: PortIdentity, startingBoundaryHops: UInt8, boundaryHops: UInt8, actionByte: UInt8, reserved: UInt8) {
        self.targetPortIdentity = targetPortIdentity
        self.startingBoundaryHops = startingBoundaryHops
        self.boundaryHops = boundaryHops
        self.actionByte = actionByte
        self.reserved = reserved
    }

    /// nil for the reserved action values 5–15.
    public var action: PTPManagementAction? { PTPManagementAction(rawValue: actionByte & 0x0F) }
}

/// actionField (Table 57).
public enum PTPManagementAction: UInt8, Sendable, Hashable {
    case get = 0, set = 1, response = 2, command = 3, acknowledge = 4
}
