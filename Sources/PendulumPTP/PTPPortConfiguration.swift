/// Static configuration of one port.
public struct PTPPortConfiguration: Sendable, Hashable {
    public var portNumber: UInt16
    public var intervals: PTPLogIntervals
    public var announceReceiptTimeout: UInt8
    public var delayMechanism: DelayMechanism
    public var masterOnly: Bool

    public init(portNumber: UInt16, intervals: PTPLogIntervals = PTPLogIntervals(), announceReceiptTimeout: UInt8 = 3,
                delayMechanism: DelayMechanism = .e2e, masterOnly: Bool = false) {
        self.portNumber = portNumber
        self.intervals = intervals
        self.announceReceiptTimeout = Swift.max(2, announceReceiptTimeout)
        self.delayMechanism = delayMechanism
        self.masterOnly = masterOnly
    }
}
