/// What the clock should do about an estimated offset: the step/slew/refuse decision.
public enum SteeringDecision: Sendable, Hashable {
    /// Jump the clock by this many seconds (positive: forward).
    case step(Double)
    /// Remove the offset gradually by adjusting frequency.
    case slew
    /// The offset is beyond the panic threshold: do nothing, report.
    case refuse
}

/// Thresholds from the configuration applied to one offset.
public struct SteeringPolicy: Sendable, Hashable {
    public var startupStepThreshold: Double?
    public var stepThreshold: Double?
    public var startupPanicThreshold: Double?
    public var panicThreshold: Double?

    public init(configuration: DisciplineConfiguration) {
        startupStepThreshold = configuration.startupStepThreshold
        stepThreshold = configuration.stepThreshold
        startupPanicThreshold = configuration.startupPanicThreshold
        panicThreshold = configuration.panicThreshold
    }

    /// `offset` is server minus local time; `startup` is true until the first synchronisation.
    public func decide(offset: Double, startup: Bool) -> SteeringDecision {
        let magnitude = abs(offset)
        if let panic = startup ? startupPanicThreshold : panicThreshold, magnitude > panic {
            return .refuse
        }
        if let threshold = startup ? startupStepThreshold : stepThreshold, magnitude > threshold {
            return .step(offset)
        }
        return .slew
    }
}
