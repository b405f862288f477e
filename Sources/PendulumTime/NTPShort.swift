/// NTP's 32-bit short format: unsigned 16.16 fixed-point seconds, used for root delay and root
/// dispersion.
public struct NTPShort: Sendable, Hashable, Comparable {
    public var rawValue: UInt32

    public init(rawValue: UInt32) {
        self.rawValue = rawValue
    }

    public static let zero = NTPShort(rawValue: 0)
    public static let max = NTPShort(rawValue: .max)

    public var duration: NTPDuration {
        NTPDuration(rawValue: Int64(rawValue) << 16)
    }

    /// The short value not smaller than `duration` (dispersion must never be understated),
    /// clamped to the format's range [0, 65536) s.
    public init(roundingUp duration: NTPDuration) {
        guard duration.rawValue > 0 else {
            rawValue = 0
            return
        }
        guard duration.rawValue <= Int64.max - 0xFFFF else {
            rawValue = .max
            return
        }
        let units = (duration.rawValue + 0xFFFF) >> 16
        rawValue = units > Int64(UInt32.max) ? .max : UInt32(units)
    }

    public var seconds: Double { duration.seconds }

    public static func < (lhs: NTPShort, rhs: NTPShort) -> Bool {
        lhs.rawValue < rhs.rawValue
    }
}
