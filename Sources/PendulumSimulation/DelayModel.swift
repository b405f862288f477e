/// One direction's network delay: a fixed part plus exponential and/or normal jitter.
public struct DelayModel: Sendable, Hashable {
    public var fixed: Double
    /// Mean of the exponential queueing part, s (0: none).
    public var exponentialMean: Double
    /// Std-dev of a normal part, s (0: none); the total never goes below zero.
    public var normalStandardDeviation: Double

    public init(fixed: Double, exponentialMean: Double = 0, normalStandardDeviation: Double = 0) {
        self.fixed = fixed
        self.exponentialMean = exponentialMean
        self.normalStandardDeviation = normalStandardDeviation
    }

    public func sample(_ random: inout SeededGenerator) -> Double {
        var delay = fixed
        if exponentialMean > 0 { delay += random.exponential(mean: exponentialMean) }
        if normalStandardDeviation > 0 { delay += normalStandardDeviation * random.normal() }
        return max(0, delay)
    }
}

public enum DelayExpressionError: Error, Sendable, Hashable {
    case empty
    case badTerm(String)
}

extension DelayModel {
    /// Parses `FIXED[+exp(MEAN)][+normal(STD)]` in seconds, e.g. `100e-6+exp(100e-6)`.
    public init(parsing text: String) throws(DelayExpressionError) {
        let terms = text.replacingSpaces().split(separator: "+", omittingEmptySubsequences: false)
        guard !text.isEmpty else { throw .empty }
        var model = DelayModel(fixed: 0)
        var pending = ""
        for rawTerm in terms {
            // A '+' inside an exponent ("1e+3") splits a number: glue it back.
            let term = pending.isEmpty ? String(rawTerm) : pending + "+" + rawTerm
            if term.last == "e" || term.last == "E" {
                pending = term
                continue
            }
            pending = ""
            if term.hasPrefix("exp(") && term.hasSuffix(")") {
                guard let value = Double(term.dropFirst(4).dropLast()), value >= 0 else { throw .badTerm(term) }
                model.exponentialMean += value
            } else if term.hasPrefix("normal(") && term.hasSuffix(")") {
                guard let value = Double(term.dropFirst(7).dropLast()), value >= 0 else { throw .badTerm(term) }
                model.normalStandardDeviation += value
            } else {
                guard let value = Double(term), value.isFinite else { throw .badTerm(term) }
                model.fixed += value
            }
        }
        guard pending.isEmpty else { throw .badTerm(pending) }
        guard model.fixed >= 0, model.fixed.isFinite else { throw .badTerm(text) }
        self = model
    }
}

extension String {
    fileprivate func replacingSpaces() -> String { String(filter { $0 != " " }) }
}
