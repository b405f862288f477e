#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Which way a datagram travels through the proxy: client to server or back.
package enum PathDirection: Sendable, Hashable {
    case request
    case reply
}

/// How one direction of the path is impaired. Seconds throughout.
package struct PathDirectionSettings: Sendable, Equatable {
    /// Delay every delivered datagram gets.
    package var baseDelay: Double
    /// Mean of the exponential delay added on top of `baseDelay`; 0 for none.
    package var meanJitter: Double
    /// Probability of dropping a datagram, 0...1.
    package var loss: Double
    /// Extra base delay from `PathImpairmentSettings.stepAt` on.
    package var step: Double

    package init(baseDelay: Double = 0, meanJitter: Double = 0, loss: Double = 0, step: Double = 0) {
        self.baseDelay = baseDelay
        self.meanJitter = meanJitter
        self.loss = loss
        self.step = step
    }
}

/// Both directions of an impaired path and when the delay step happens.
package struct PathImpairmentSettings: Sendable, Equatable {
    /// A delay, jitter or step beyond this is a typo, not a path; it also keeps every deadline
    /// far from overflowing when turned into nanoseconds.
    package static let maximumDelay: Double = 10

    package var request: PathDirectionSettings
    package var reply: PathDirectionSettings
    /// Seconds after the start from which each direction's `step` applies; nil for no step.
    package var stepAt: Double?

    package init(request: PathDirectionSettings = .init(), reply: PathDirectionSettings = .init(), stepAt: Double? = nil) {
        self.request = request
        self.reply = reply
        self.stepAt = stepAt
    }

    /// Every value finite and in range; the message names the offending setting.
    package func validate() throws(PathImpairmentError) {
        for (name, direction) in [("request", request), ("reply", reply)] {
            try Self.check(direction.baseDelay, "\(name) delay", 0...Self.maximumDelay)
            try Self.check(direction.meanJitter, "\(name) jitter", 0...Self.maximumDelay)
            try Self.check(direction.loss, "\(name) loss", 0...1)
            try Self.check(direction.step, "\(name) step", 0...Self.maximumDelay)
        }
        if let stepAt {
            try Self.check(stepAt, "step time", 0...86_400)
        } else if request.step != 0 || reply.step != 0 {
            throw PathImpairmentError("a delay step needs the time it happens at (--step-at)")
        }
    }

    private static func check(_ value: Double, _ name: String, _ range: ClosedRange<Double>) throws(PathImpairmentError) {
        guard value.isFinite, range.contains(value) else {
            throw PathImpairmentError("\(name) \(value) is outside \(range.lowerBound)...\(range.upperBound)")
        }
    }
}

package struct PathImpairmentError: Error, Sendable, Equatable, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}

/// What happens to one datagram.
package enum ImpairmentDecision: Sendable, Equatable {
    case drop
    /// Hand it on this many seconds after it arrived.
    case deliver(afterSeconds: Double)
}

/// The proxy's decisions without its I/O: for each datagram and direction, drop it or deliver
/// it after `base (+ step) + Exp(mean jitter)` seconds. Seeded, so a run can be replayed and
/// two proxies with different seeds impair identically in distribution only.
package struct PathImpairment: Sendable {
    package let settings: PathImpairmentSettings
    private var requestGenerator: ImpairmentGenerator
    private var replyGenerator: ImpairmentGenerator

    package init(settings: PathImpairmentSettings, seed: UInt64) throws(PathImpairmentError) {
        try settings.validate()
        self.settings = settings
        // Distinct streams per direction; the constant only has to differ from 0.
        requestGenerator = ImpairmentGenerator(seed: seed)
        replyGenerator = ImpairmentGenerator(seed: seed ^ 0xD1B5_4A32_D192_ED03)
    }

    /// The fate of a datagram arriving `elapsed` seconds after the start.
    package mutating func decide(_ direction: PathDirection, elapsed: Double) -> ImpairmentDecision {
        let path = direction == .request ? settings.request : settings.reply
        // Both draws are taken every time so a datagram's delay does not depend on whether
        // loss is configured: the same seed gives the same delays with or without it.
        let lossDraw: Double
        let jitterDraw: Double
        switch direction {
        case .request:
            lossDraw = requestGenerator.nextUnit()
            jitterDraw = requestGenerator.nextUnit()
        case .reply:
            lossDraw = replyGenerator.nextUnit()
            jitterDraw = replyGenerator.nextUnit()
        }
        if lossDraw < path.loss { return .drop }
        var delay = path.baseDelay
        if let stepAt = settings.stepAt, elapsed >= stepAt { delay += path.step }
        if path.meanJitter > 0 {
            // Inverse transform; 1 - u is in (0, 1], so the logarithm is finite (at most ~36.7).
            delay += -path.meanJitter * log(1 - jitterDraw)
        }
        return .deliver(afterSeconds: delay)
    }
}
