import PendulumTime

/// When a packet left or arrived, and how trustworthy that instant is.
public struct PacketTimestamp: Sendable, Hashable {
    /// Where the timestamp came from, best first.
    public enum Source: String, Sendable, Hashable, Codable {
        /// Taken by the network card.
        case hardware
        /// Taken by the kernel as the packet passed through the network stack.
        case kernel
        /// Read from the clock in this process next to the system call: includes scheduling
        /// and system-call latency.
        case userSpace = "user-space"
    }

    public var time: UnixTime
    public var source: Source

    public init(time: UnixTime, source: Source) {
        self.time = time
        self.source = source
    }
}
