/// The fields the data-set comparison algorithm (§9.3.4) looks at, from an Announce or from
/// this instance's own defaultDS.
public struct ComparisonDataset: Sendable, Hashable {
    public var grandmasterPriority1: UInt8
    public var grandmasterIdentity: ClockIdentity
    public var grandmasterClockQuality: ClockQuality
    public var grandmasterPriority2: UInt8
    public var stepsRemoved: UInt16
    /// sourcePortIdentity of the Announce ("identity of sender").
    public var sender: PortIdentity
    /// The port that received it ("identity of receiver").
    public var receiver: PortIdentity

    public init(grandmasterPriority1: UInt8, grandmasterIdentity: ClockIdentity, grandmasterClockQuality: ClockQuality,
                grandmasterPriority2: UInt8, stepsRemoved: UInt16, sender: PortIdentity, receiver: PortIdentity) {
        self.grandmasterPriority1 = grandmasterPriority1
        self.grandmasterIdentity = grandmasterIdentity
        self.grandmasterClockQuality = grandmasterClockQuality
        self.grandmasterPriority2 = grandmasterPriority2
        self.stepsRemoved = stepsRemoved
        self.sender = sender
        self.receiver = receiver
    }

    /// D0: this instance as a candidate grandmaster (§9.3.4 — stepsRemoved 0, sender and
    /// receiver both this clock with port number 0).
    public init(defaults: DefaultDataset) {
        let own = PortIdentity(clockIdentity: defaults.clockIdentity, portNumber: 0)
        self.init(grandmasterPriority1: defaults.priority1, grandmasterIdentity: defaults.clockIdentity,
                  grandmasterClockQuality: defaults.clockQuality, grandmasterPriority2: defaults.priority2,
                  stepsRemoved: 0, sender: own, receiver: own)
    }

    /// An Announce as received on `receiver`.
    public init(announce: PTPAnnounceBody, sender: PortIdentity, receiver: PortIdentity) {
        self.init(grandmasterPriority1: announce.grandmasterPriority1, grandmasterIdentity: announce.grandmasterIdentity,
                  grandmasterClockQuality: announce.grandmasterClockQuality,
                  grandmasterPriority2: announce.grandmasterPriority2, stepsRemoved: announce.stepsRemoved,
                  sender: sender, receiver: receiver)
    }
}

/// The outcome of comparing data sets A and B (Figures 34 and 35).
public enum ComparisonResult: Sendable, Hashable {
    case aBetter, aBetterByTopology, bBetter, bBetterByTopology
    /// Error-1: A or B is our own message returned (receiver and sender are the same port).
    case sameMessageReturned
    /// Error-2: the two are the same Announce path (duplicate); they compare equal.
    case identical

    public var aIsBetter: Bool { self == .aBetter || self == .aBetterByTopology }
    public var bIsBetter: Bool { self == .bBetter || self == .bBetterByTopology }

    var swapped: ComparisonResult {
        switch self {
        case .aBetter: .bBetter
        case .aBetterByTopology: .bBetterByTopology
        case .bBetter: .aBetter
        case .bBetterByTopology: .aBetterByTopology
        case .sameMessageReturned, .identical: self
        }
    }
}

public enum DatasetComparison {
    /// Figure 34: grandmaster attributes first; with the same grandmaster, the topology (Figure 35).
    public static func compare(_ a: ComparisonDataset, _ b: ComparisonDataset) -> ComparisonResult {
        guard a.grandmasterIdentity == b.grandmasterIdentity else {
            let qa = a.grandmasterClockQuality, qb = b.grandmasterClockQuality
            let keyA = (a.grandmasterPriority1, qa.clockClass, qa.clockAccuracy, qa.offsetScaledLogVariance, a.grandmasterPriority2)
            let keyB = (b.grandmasterPriority1, qb.clockClass, qb.clockAccuracy, qb.offsetScaledLogVariance, b.grandmasterPriority2)
            if keyA < keyB { return .aBetter }
            if keyB < keyA { return .bBetter }
            // Different identities never tie.
            return a.grandmasterIdentity < b.grandmasterIdentity ? .aBetter : .bBetter
        }
        return compareTopology(a, b)
    }

    /// Figure 35: the same grandmaster seen along two paths.
    static func compareTopology(_ a: ComparisonDataset, _ b: ComparisonDataset) -> ComparisonResult {
        let stepsA = Int(a.stepsRemoved), stepsB = Int(b.stepsRemoved)
        if stepsA > stepsB + 1 { return .bBetter }
        if stepsB > stepsA + 1 { return .aBetter }
        if stepsA > stepsB {
            // A has one step more: if A came to us from ourselves it must lose.
            if a.receiver < a.sender { return .bBetter }
            if a.receiver > a.sender { return .bBetterByTopology }
            return .sameMessageReturned
        }
        if stepsB > stepsA {
            if b.receiver < b.sender { return .aBetter }
            if b.receiver > b.sender { return .aBetterByTopology }
            return .sameMessageReturned
        }
        if a.sender > b.sender { return .bBetterByTopology }
        if a.sender < b.sender { return .aBetterByTopology }
        if a.receiver.portNumber > b.receiver.portNumber { return .bBetterByTopology }
        if a.receiver.portNumber < b.receiver.portNumber { return .aBetterByTopology }
        return .identical
    }
}
