/// messageType (§13.3.2.2, Table 36).
public enum PTPMessageType: UInt8, Sendable, Hashable, CaseIterable {
    case sync = 0x0
    case delayReq = 0x1
    case pdelayReq = 0x2
    case pdelayResp = 0x3
    case followUp = 0x8
    case delayResp = 0x9
    case pdelayRespFollowUp = 0xA
    case announce = 0xB
    case signaling = 0xC
    case management = 0xD

    /// Event messages are timestamped on send and receipt and go to UDP port 319.
    public var isEvent: Bool { rawValue < 0x8 }

    /// Length of header plus fixed body, i.e. the smallest valid messageLength.
    public var minimumLength: Int {
        switch self {
        case .sync, .delayReq, .followUp, .signaling: 44
        case .delayResp, .pdelayReq, .pdelayResp, .pdelayRespFollowUp: 54
        case .announce: 64
        case .management: 48
        }
    }

    /// controlField (Table 42): kept for compatibility with version 1 hardware.
    public var controlField: UInt8 {
        switch self {
        case .sync: 0
        case .delayReq: 1
        case .followUp: 2
        case .delayResp: 3
        case .management: 4
        default: 5
        }
    }

    /// The logMessageInterval this message type carries (Table 43): the sender's interval for
    /// periodic messages, and 0x7F where there is none.
    public func logMessageInterval(for intervals: PTPLogIntervals) -> Int8 {
        switch self {
        case .sync, .followUp: intervals.logSyncInterval
        case .announce: intervals.logAnnounceInterval
        case .delayResp: intervals.logMinDelayReqInterval
        case .delayReq, .pdelayReq, .pdelayResp, .pdelayRespFollowUp, .signaling, .management: 0x7F
        }
    }
}

/// A port's message rates as log₂ seconds.
public struct PTPLogIntervals: Sendable, Hashable {
    public var logAnnounceInterval: Int8
    public var logSyncInterval: Int8
    public var logMinDelayReqInterval: Int8
    public var logMinPdelayReqInterval: Int8

    public init(logAnnounceInterval: Int8 = 1, logSyncInterval: Int8 = 0,
                logMinDelayReqInterval: Int8 = 0, logMinPdelayReqInterval: Int8 = 0) {
        self.logAnnounceInterval = logAnnounceInterval
        self.logSyncInterval = logSyncInterval
        self.logMinDelayReqInterval = logMinDelayReqInterval
        self.logMinPdelayReqInterval = logMinPdelayReqInterval
    }
}
