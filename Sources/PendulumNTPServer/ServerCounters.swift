/// How many requests ended in each class. Plain values: each serving thread keeps its own and
/// the daemon adds them up.
public struct ServerCounters: Sendable, Hashable {
    public var responded = 0
    /// Of `responded`, those that were NTS-authenticated.
    public var respondedNTS = 0
    public var kisses: [KissCode: Int] = [:]
    public var ntsNaks = 0
    public var drops: [ServerDropReason: Int] = [:]

    public init() {}

    public var total: Int {
        responded + kisses.values.reduce(0, +) + ntsNaks + drops.values.reduce(0, +)
    }

    public subscript(reason: ServerDropReason) -> Int { drops[reason, default: 0] }
    public subscript(kiss code: KissCode) -> Int { kisses[code, default: 0] }

    public mutating func record(_ outcome: ServerOutcome) {
        switch outcome {
        case .responded: responded += 1
        case .kiss(let code): kisses[code, default: 0] += 1
        case .ntsNak: ntsNaks += 1
        case .dropped(let reason): drops[reason, default: 0] += 1
        }
    }

    public static func + (lhs: ServerCounters, rhs: ServerCounters) -> ServerCounters {
        var sum = lhs
        sum.responded += rhs.responded
        sum.respondedNTS += rhs.respondedNTS
        sum.ntsNaks += rhs.ntsNaks
        sum.kisses.merge(rhs.kisses, uniquingKeysWith: +)
        sum.drops.merge(rhs.drops, uniquingKeysWith: +)
        return sum
    }

    /// One line: "responded=… nts=… rate=… drop.malformed=…", zero classes left out.
    public var summary: String {
        var parts = ["responded=\(responded)", "nts=\(respondedNTS)", "nts-nak=\(ntsNaks)"]
        for code in KissCode.allCases where self[kiss: code] > 0 { parts.append("kiss.\(code.rawValue)=\(self[kiss: code])") }
        for reason in ServerDropReason.allCases where self[reason] > 0 { parts.append("drop.\(reason.rawValue)=\(self[reason])") }
        return parts.joined(separator: " ")
    }
}
