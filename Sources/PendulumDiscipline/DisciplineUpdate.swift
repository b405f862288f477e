import PendulumTime

/// The result of feeding the discipline one event.
public struct DisciplineUpdate: Sendable, Hashable {
    public var actions: [ClockAction] = []
    public var events: [DisciplineEvent] = []
    /// When to poll the source that produced this sample next.
    public var nextPollInterval: NTPDuration = .zero
    public init() {}
}
