/// How many requests ended in each class. Plain values: each serving thread keeps its own and
/// the daemon adds them up. Classes are counted in fixed slots, not dictionaries: counting runs
/// once per request and must neither hash nor allocate.
public struct ServerCounters: Sendable, Hashable {
    public var responded = 0
    /// Of `responded`, those that were NTS-authenticated.
    public var respondedNTS = 0
    /// Of `responded`, those answered in interleaved mode (RFC 9769).
    public var respondedInterleaved = 0
    public var ntsNaks = 0
    private var kissCounts = ContiguousArray(repeating: 0, count: KissCode.allCases.count)
    private var dropCounts = ContiguousArray(repeating: 0, count: ServerDropReason.allCases.count)

    public init() {}

    public var kisses: [KissCode: Int] {
        Dictionary(uniqueKeysWithValues: KissCode.allCases.compactMap { self[kiss: $0] > 0 ? ($0, self[kiss: $0]) : nil })
    }

    public var drops: [ServerDropReason: Int] {
        Dictionary(uniqueKeysWithValues: ServerDropReason.allCases.compactMap { self[$0] > 0 ? ($0, self[$0]) : nil })
    }

    public var total: Int {
        responded + kissCounts.reduce(0, +) + ntsNaks + dropCounts.reduce(0, +)
    }

    public subscript(reason: ServerDropReason) -> Int { dropCounts[reason.slot] }
    public subscript(kiss code: KissCode) -> Int { kissCounts[code.slot] }

    public mutating func record(_ outcome: ServerOutcome) {
        switch outcome {
        case .responded: responded &+= 1
        case .kiss(let code): kissCounts[code.slot] &+= 1
        case .ntsNak: ntsNaks &+= 1
        case .dropped(let reason): dropCounts[reason.slot] &+= 1
        }
    }

    public static func + (lhs: ServerCounters, rhs: ServerCounters) -> ServerCounters {
        var sum = lhs
        sum.responded &+= rhs.responded
        sum.respondedNTS &+= rhs.respondedNTS
        sum.respondedInterleaved &+= rhs.respondedInterleaved
        sum.ntsNaks &+= rhs.ntsNaks
        for index in sum.kissCounts.indices { sum.kissCounts[index] &+= rhs.kissCounts[index] }
        for index in sum.dropCounts.indices { sum.dropCounts[index] &+= rhs.dropCounts[index] }
        return sum
    }

    /// One line: "responded=… nts=… rate=… drop.malformed=…", zero classes left out.
    public var summary: String {
        var parts = ["responded=\(responded)", "nts=\(respondedNTS)", "interleaved=\(respondedInterleaved)", "nts-nak=\(ntsNaks)"]
        for code in KissCode.allCases where self[kiss: code] > 0 { parts.append("kiss.\(code.rawValue)=\(self[kiss: code])") }
        for reason in ServerDropReason.allCases where self[reason] > 0 { parts.append("drop.\(reason.rawValue)=\(self[reason])") }
        return parts.joined(separator: " ")
    }
}


extension KissCode {
    var slot: Int {
        switch self {
        case .rate: 0
        case .deny: 1
        case .restrict: 2
        }
    }
}

extension ServerDropReason {
    var slot: Int {
        switch self {
        case .malformed: 0
        case .oversized: 1
        case .wrongMode: 2
        case .unsupportedVersion: 3
        case .rateLimited: 4
        case .denied: 5
        case .ntsInvalid: 6
        case .ntsUnavailable: 7
        }
    }
}
