/// What a source announces about the next leap second, as the discipline sees it. Mirrors the
/// NTP leap indicator without depending on the NTP codec (the PTP servo maps its flags here).
public enum LeapStatus: UInt8, Sendable, Hashable {
    case none = 0
    case insertSecond = 1
    case deleteSecond = 2
    case unsynchronized = 3
}
