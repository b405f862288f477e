import PendulumTime

/// defaultDS (§8.2.1): what this PTP instance is.
public struct DefaultDataset: Sendable, Hashable {
    public var clockIdentity: ClockIdentity
    public var numberPorts: UInt16
    public var clockQuality: ClockQuality
    public var priority1: UInt8
    public var priority2: UInt8
    public var domainNumber: UInt8
    public var sdoId: UInt16
    public var slaveOnly: Bool
    public var twoStep: Bool

    public init(clockIdentity: ClockIdentity, numberPorts: UInt16 = 1, clockQuality: ClockQuality = ClockQuality(),
                priority1: UInt8 = 128, priority2: UInt8 = 128, domainNumber: UInt8 = 0, sdoId: UInt16 = 0,
                slaveOnly: Bool = false, twoStep: Bool = true) {
        self.clockIdentity = clockIdentity
        self.numberPorts = numberPorts
        // A slave-only clock announces class 255 (§9.2.2.1, Table 4).
        self.clockQuality = slaveOnly ? ClockQuality(clockClass: 255, clockAccuracy: clockQuality.clockAccuracy,
                                                     offsetScaledLogVariance: clockQuality.offsetScaledLogVariance)
                                      : clockQuality
        self.priority1 = priority1
        self.priority2 = priority2
        self.domainNumber = domainNumber
        self.sdoId = sdoId
        self.slaveOnly = slaveOnly
        self.twoStep = twoStep
    }
}

/// currentDS (§8.2.2): where this instance stands relative to its grandmaster.
public struct CurrentDataset: Sendable, Hashable {
    public var stepsRemoved: UInt16 = 0
    public var offsetFromMaster: PTPTimeInterval = .zero
    public var meanPathDelay: PTPTimeInterval = .zero

    public init() {}
}

/// parentDS (§8.2.3): the port we synchronise to and the grandmaster behind it.
public struct ParentDataset: Sendable, Hashable {
    public var parentPortIdentity: PortIdentity
    public var grandmasterIdentity: ClockIdentity
    public var grandmasterClockQuality: ClockQuality
    public var grandmasterPriority1: UInt8
    public var grandmasterPriority2: UInt8

    public init(parentPortIdentity: PortIdentity, grandmasterIdentity: ClockIdentity,
                grandmasterClockQuality: ClockQuality, grandmasterPriority1: UInt8, grandmasterPriority2: UInt8) {
        self.parentPortIdentity = parentPortIdentity
        self.grandmasterIdentity = grandmasterIdentity
        self.grandmasterClockQuality = grandmasterClockQuality
        self.grandmasterPriority1 = grandmasterPriority1
        self.grandmasterPriority2 = grandmasterPriority2
    }

    /// The parentDS of a clock that is its own grandmaster (decision codes M1, M2).
    public init(ownClock defaults: DefaultDataset) {
        self.init(parentPortIdentity: PortIdentity(clockIdentity: defaults.clockIdentity, portNumber: 0),
                  grandmasterIdentity: defaults.clockIdentity, grandmasterClockQuality: defaults.clockQuality,
                  grandmasterPriority1: defaults.priority1, grandmasterPriority2: defaults.priority2)
    }
}

/// timePropertiesDS (§8.2.4): the timescale the grandmaster distributes.
public struct TimePropertiesDataset: Sendable, Hashable {
    public var currentUtcOffset: Int16
    public var currentUtcOffsetValid: Bool
    public var leap59: Bool
    public var leap61: Bool
    public var timeTraceable: Bool
    public var frequencyTraceable: Bool
    public var ptpTimescale: Bool
    public var timeSource: UInt8

    public init(currentUtcOffset: Int16 = 37, currentUtcOffsetValid: Bool = false, leap59: Bool = false,
                leap61: Bool = false, timeTraceable: Bool = false, frequencyTraceable: Bool = false,
                ptpTimescale: Bool = true, timeSource: UInt8 = TimeSource.internalOscillator) {
        self.currentUtcOffset = currentUtcOffset
        self.currentUtcOffsetValid = currentUtcOffsetValid
        self.leap59 = leap59
        self.leap61 = leap61
        self.timeTraceable = timeTraceable
        self.frequencyTraceable = frequencyTraceable
        self.ptpTimescale = ptpTimescale
        self.timeSource = timeSource
    }

    /// The properties an Announce carries in its header flags and body.
    public init(announce: PTPAnnounceBody, flags: PTPFlags) {
        self.init(currentUtcOffset: announce.currentUtcOffset, currentUtcOffsetValid: flags.contains(.currentUtcOffsetValid),
                  leap59: flags.contains(.leap59), leap61: flags.contains(.leap61),
                  timeTraceable: flags.contains(.timeTraceable), frequencyTraceable: flags.contains(.frequencyTraceable),
                  ptpTimescale: flags.contains(.ptpTimescale), timeSource: announce.timeSource)
    }

    /// The leap second announced for the end of the day, as NTP and the discipline know it
    /// (the two flags set at once, which no master should send, announce none).
    public var leapIndicator: LeapIndicator {
        switch (leap61, leap59) {
        case (true, false): .insertSecond
        case (false, true): .deleteSecond
        default: .none
        }
    }

    /// The header flags announcing these properties.
    public var flags: PTPFlags {
        var flags: PTPFlags = []
        if currentUtcOffsetValid { flags.insert(.currentUtcOffsetValid) }
        if leap59 { flags.insert(.leap59) }
        if leap61 { flags.insert(.leap61) }
        if timeTraceable { flags.insert(.timeTraceable) }
        if frequencyTraceable { flags.insert(.frequencyTraceable) }
        if ptpTimescale { flags.insert(.ptpTimescale) }
        return flags
    }
}

/// portState (§8.2.15.3.1, Table 20), with the standard's names as descriptions.
public enum PortState: UInt8, Sendable, Hashable, CustomStringConvertible {
    case initializing = 1, faulty = 2, disabled = 3, listening = 4, preMaster = 5, master = 6, passive = 7
    case uncalibrated = 8, slave = 9

    public var description: String {
        switch self {
        case .initializing: "INITIALIZING"
        case .faulty: "FAULTY"
        case .disabled: "DISABLED"
        case .listening: "LISTENING"
        case .preMaster: "PRE_MASTER"
        case .master: "MASTER"
        case .passive: "PASSIVE"
        case .uncalibrated: "UNCALIBRATED"
        case .slave: "SLAVE"
        }
    }
}

/// delayMechanism (Table 21).
public enum DelayMechanism: UInt8, Sendable, Hashable {
    case e2e = 1, p2p = 2, noMechanism = 0xFE
}

/// portDS (§8.2.15): one port's configuration and state.
public struct PortDataset: Sendable, Hashable {
    public var portIdentity: PortIdentity
    public var portState: PortState
    public var intervals: PTPLogIntervals
    /// Announce intervals without an Announce before the port gives up on its master (≥ 2; default 3).
    public var announceReceiptTimeout: UInt8
    public var delayMechanism: DelayMechanism
    public var peerMeanPathDelay: PTPTimeInterval
    public var masterOnly: Bool
    public var versionNumber: UInt8 = 2
    public var minorVersionNumber: UInt8 = 1

    public init(portIdentity: PortIdentity, intervals: PTPLogIntervals = PTPLogIntervals(), announceReceiptTimeout: UInt8 = 3,
                delayMechanism: DelayMechanism = .e2e, masterOnly: Bool = false) {
        self.portIdentity = portIdentity
        portState = .initializing
        self.intervals = intervals
        self.announceReceiptTimeout = announceReceiptTimeout
        self.delayMechanism = delayMechanism
        peerMeanPathDelay = .zero
        self.masterOnly = masterOnly
    }
}
