import PendulumDiscipline
import PendulumIO

extension LeapAnnouncement {
    /// What a clock is told to do at midnight for the discipline's decision; "unsynchronised"
    /// is no leap second.
    public init(_ status: LeapStatus) {
        self = LeapAnnouncement(rawValue: status.rawValue) ?? .none
    }
}
