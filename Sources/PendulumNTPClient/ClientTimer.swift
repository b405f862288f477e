import PendulumDiscipline

/// The timers the client core asks for. Setting a timer that is already set moves it; the
/// shell fires each one at most once per setting.
public enum ClientTimer: Sendable, Hashable {
    /// Time for the source's next poll.
    case poll(SourceID)
    /// The source's outstanding step (an answer, a name resolution, an NTS key exchange) has
    /// taken too long.
    case deadline(SourceID)
    /// Check the pools' members and top them up.
    case poolMaintenance
    /// The last offset has been slewed away: the frequency goes back to the estimate.
    case slewEnd
    /// A leap second announced to the clock has just happened (or its day is over): withdraw
    /// the announcement now rather than at the next poll, which may be many minutes away.
    case leapReview
}
