import PendulumTime

/// The result of feeding the discipline one event.
public struct DisciplineUpdate: Sendable, Hashable {
    public var actions: [ClockAction] = []
    public var events: [DisciplineEvent] = []
    /// When to poll the source that produced this sample next.
    public var nextPollInterval: NTPDuration = .zero
    /// The frequency set includes a slew that has done its work after this long: call
    /// `ClockDiscipline.endSlew` then, or a lost answer lets the slew run on past the offset.
    public var slewDuration: NTPDuration?
    /// A leap second was announced to the clock: call `ClockDiscipline.reviewSelection` this
    /// long after, when it is over, so the announcement is withdrawn at once.
    public var leapReviewAfter: NTPDuration?
    public init() {}
}
