/// The state decision algorithm (§9.3.3, Figure 33) for every port of one instance.
public enum StateDecision {
    /// What Figure 33 recommends for a port, with the decision code naming the branch.
    public enum Recommendation: Sendable, Hashable {
        /// M1, M2: this instance is grandmaster. M3: master of this link to a better path elsewhere.
        case master(DecisionCode)
        /// S1: synchronise to `best`, received on this port.
        case slave(ForeignMasterTable.Record)
        /// P1, P2: stay silent to break a loop or defer to a better clock on the link.
        case passive(DecisionCode)
        /// No qualified Announce yet and the port is listening: keep listening.
        case listening
    }

    public enum DecisionCode: String, Sendable, Hashable { case m1 = "M1", m2 = "M2", m3 = "M3", p1 = "P1", p2 = "P2", s1 = "S1" }

    public struct PortInput: Sendable {
        public var portIdentity: PortIdentity
        public var state: PortState
        public var qualifiedRecords: [ForeignMasterTable.Record]
        public var masterOnly: Bool
        /// The port's announce receipt timer just expired: it stops waiting in LISTENING.
        public var announceReceiptTimedOut: Bool

        public init(portIdentity: PortIdentity, state: PortState, qualifiedRecords: [ForeignMasterTable.Record],
                    masterOnly: Bool = false, announceReceiptTimedOut: Bool = false) {
            self.portIdentity = portIdentity
            self.state = state
            self.qualifiedRecords = qualifiedRecords
            self.masterOnly = masterOnly
            self.announceReceiptTimedOut = announceReceiptTimedOut
        }
    }

    /// Erbest of one port: the best qualified record by the data-set comparison.
    public static func best(of records: [ForeignMasterTable.Record], receiver: PortIdentity) -> (ForeignMasterTable.Record, ComparisonDataset)? {
        var best: (ForeignMasterTable.Record, ComparisonDataset)?
        for record in records {
            let candidate = ComparisonDataset(announce: record.latest, sender: record.sender, receiver: receiver)
            // Announces that already passed through this clock cannot lead to a grandmaster (§9.3.2.5).
            guard candidate.stepsRemoved < 255 else { continue }
            if let current = best {
                if DatasetComparison.compare(candidate, current.1).aIsBetter { best = (record, candidate) }
            } else {
                best = (record, candidate)
            }
        }
        return best
    }

    /// Recommendations for all ports, in the order given.
    public static func decide(defaults: DefaultDataset, ports: [PortInput]) -> [Recommendation] {
        let d0 = ComparisonDataset(defaults: defaults)
        let erbest = ports.map { port in port.masterOnly ? nil : best(of: port.qualifiedRecords, receiver: port.portIdentity) }
        var ebest: (index: Int, dataset: ComparisonDataset)?
        for (index, candidate) in erbest.enumerated() {
            guard let candidate else { continue }
            if let current = ebest, !DatasetComparison.compare(candidate.1, current.dataset).aIsBetter { continue }
            ebest = (index, candidate.1)
        }
        return ports.indices.map { index in
            let port = ports[index]
            if port.masterOnly { return .master(.m2) }
            let portBest = erbest[index]
            if portBest == nil && port.state == .listening && !port.announceReceiptTimedOut { return .listening }
            if defaults.clockQuality.clockClass <= 127 {
                guard let portBest else { return .master(.m1) }
                return DatasetComparison.compare(d0, portBest.1).aIsBetter ? .master(.m1) : .passive(.p1)
            }
            guard let ebest else { return .master(.m2) }
            if DatasetComparison.compare(d0, ebest.dataset).aIsBetter { return .master(.m2) }
            if ebest.index == index, let portBest { return .slave(portBest.0) }
            guard let portBest else { return .master(.m3) }
            return DatasetComparison.compare(ebest.dataset, portBest.1) == .aBetterByTopology ? .passive(.p2) : .master(.m3)
        }
    }
}
