import PendulumTime

/// What interleaved mode (RFC 9769) needs the server to remember: for each recent response,
/// the receive timestamp it carried and the moment it actually left (a kernel transmit
/// timestamp, known only after sending). An interleaved client echoes that receive timestamp
/// as its next request's origin; the server answers with the matching transmit time.
///
/// Keyed by the receive timestamp, as the RFC suggests (not by address: clients behind one NAT
/// share an address), in a fixed-size direct-mapped table: memory does not grow with the number
/// of clients, and an entry lost to a newer one only costs that client one basic-mode answer.
public struct InterleavedTable: Sendable {
    struct Entry {
        var receive: UInt64 = 0
        var transmit: UInt64 = 0
    }

    private var entries: ContiguousArray<Entry>
    private let mask: Int

    /// `capacity` is rounded up to a power of two (at least 16, at most 2^22).
    public init(capacity: Int = 1 << 14) {
        var size = 16
        while size < capacity && size < (1 << 22) { size <<= 1 }
        entries = ContiguousArray(repeating: Entry(), count: size)
        mask = size - 1
    }

    public var capacity: Int { entries.count }

    private func slot(_ receive: UInt64) -> Int {
        // Receive timestamps' low bits are the most varied; fold the rest in as well.
        Int(truncatingIfNeeded: (receive ^ (receive >> 29) ^ (receive >> 47)) &* 0x9E37_79B9_7F4A_7C15 >> 40) & mask
    }

    /// Remembers when the response that carried `receive` left.
    public mutating func record(receive: NTPTimestamp, transmit: NTPTimestamp) {
        guard receive.rawValue != 0 else { return }
        entries[slot(receive.rawValue)] = Entry(receive: receive.rawValue, transmit: transmit.rawValue)
    }

    /// The transmit time of the response that carried `receive`, if still remembered.
    public func transmit(forReceive receive: NTPTimestamp) -> NTPTimestamp? {
        guard receive.rawValue != 0 else { return nil }
        let entry = entries[slot(receive.rawValue)]
        return entry.receive == receive.rawValue ? NTPTimestamp(rawValue: entry.transmit) : nil
    }
}
