/// What is announced about a leap second at the end of the current UTC day, and whether the
/// time is known at all: NTP's two-bit leap indicator, with its values. One type serves the
/// wire, a source's announcement, the discipline's decision and what a clock is told, so
/// nothing is converted on the way from a packet to the kernel.
public enum LeapIndicator: UInt8, Sendable, Hashable, CaseIterable, Codable {
    case none = 0
    /// The last minute of the day has 61 seconds.
    case insertSecond = 1
    /// The last minute of the day has 59 seconds.
    case deleteSecond = 2
    /// The sender's clock is not synchronised (NTP's alarm condition).
    case unsynchronized = 3

    /// The leap second alone, as a clock is told it: "unsynchronised" announces none.
    public var leapSecond: LeapIndicator {
        self == .unsynchronized ? .none : self
    }
}
