/// A client's IP address as two words, for per-request checks that must not allocate:
/// access control and rate limiting compare and hash it without building byte arrays.
/// IPv4 and IPv4-mapped IPv6 ("::ffff:a.b.c.d") are the same client.
public struct ClientAddress: Sendable, Hashable {
    /// IPv6: the first 8 bytes; IPv4: zero.
    public let high: UInt64
    /// IPv6: the last 8 bytes; IPv4: the address in the low 32 bits.
    public let low: UInt64
    public let isIPv4: Bool

    public init(high: UInt64, low: UInt64, isIPv4: Bool) {
        self.high = isIPv4 ? 0 : high
        self.low = isIPv4 ? low & 0xFFFF_FFFF : low
        self.isIPv4 = isIPv4
    }

    /// From 4 or 16 address bytes in network order; nil for any other length.
    public init?(bytes: some Collection<UInt8>) {
        switch bytes.count {
        case 4:
            var value: UInt64 = 0
            for byte in bytes { value = value << 8 | UInt64(byte) }
            self.init(high: 0, low: value, isIPv4: true)
        case 16:
            var high: UInt64 = 0
            var low: UInt64 = 0
            for (index, byte) in bytes.enumerated() {
                if index < 8 { high = high << 8 | UInt64(byte) } else { low = low << 8 | UInt64(byte) }
            }
            self.init(ipv6High: high, low: low)
        default:
            return nil
        }
    }

    /// An IPv6 address given as two big-endian words; IPv4-mapped addresses become IPv4.
    public init(ipv6High high: UInt64, low: UInt64) {
        if high == 0, low >> 32 == 0xFFFF {
            self.init(high: 0, low: low, isIPv4: true)
        } else {
            self.init(high: high, low: low, isIPv4: false)
        }
    }

    /// 4 or 16 bytes, network order.
    public var bytes: [UInt8] {
        if isIPv4 { return (0..<4).map { UInt8(truncatingIfNeeded: low >> (24 - 8 * $0)) } }
        return (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * $0)) } + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * $0)) }
    }
}
