/// A 64-bit NTP timestamp as it appears on the wire: 32 bits of seconds since the start of the
/// current era and 32 bits of fraction.
///
/// The era is not on the wire. Differences between timestamps are taken modulo 2⁶⁴ and read
/// as signed, which is right whenever the two are within 68 years of each other (RFC 5905
/// §6); conversion to absolute time needs a pivot (see `unixTime(nearestTo:)`).
public struct NTPTimestamp: Sendable, Hashable {
    public var rawValue: UInt64

    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    public init(seconds: UInt32, fraction: UInt32) {
        rawValue = UInt64(seconds) << 32 | UInt64(fraction)
    }

    /// All-zero: on the wire, "unknown" or "not set".
    public static let zero = NTPTimestamp(rawValue: 0)

    public var seconds: UInt32 { UInt32(truncatingIfNeeded: rawValue >> 32) }
    public var fraction: UInt32 { UInt32(truncatingIfNeeded: rawValue) }

    /// Seconds from 1900-01-01 (NTP era 0) to 1970-01-01 (the Unix epoch).
    public static let unixEpochOffsetSeconds: Int64 = 2_208_988_800

    /// The signed interval from `rhs` to `lhs`, assuming they are less than 68 years apart.
    public static func - (lhs: NTPTimestamp, rhs: NTPTimestamp) -> NTPDuration {
        NTPDuration(rawValue: Int64(bitPattern: lhs.rawValue &- rhs.rawValue))
    }

    /// Moves the timestamp, wrapping across era boundaries as the wire format does.
    public static func + (lhs: NTPTimestamp, rhs: NTPDuration) -> NTPTimestamp {
        NTPTimestamp(rawValue: lhs.rawValue &+ UInt64(bitPattern: rhs.rawValue))
    }

    public static func - (lhs: NTPTimestamp, rhs: NTPDuration) -> NTPTimestamp {
        NTPTimestamp(rawValue: lhs.rawValue &- UInt64(bitPattern: rhs.rawValue))
    }

    /// The wire timestamp of an absolute time; the era number is dropped.
    public init(_ time: UnixTime) {
        let ntpSeconds = time.seconds &+ Self.unixEpochOffsetSeconds
        // Rounded to the nearest fraction; ≤ (1e9−1)·2³² + 5e8 fits easily in UInt64.
        let fraction = (UInt64(time.nanoseconds) << 32 + 500_000_000) / 1_000_000_000
        self.init(seconds: UInt32(truncatingIfNeeded: ntpSeconds), fraction: UInt32(truncatingIfNeeded: fraction))
    }

    /// The absolute time this timestamp denotes in era `era` (era 0 began 1900-01-01,
    /// era 1 begins 2036-02-07T06:28:16Z).
    public func unixTime(era: Int32) -> UnixTime {
        let ntpSeconds = Int64(era) << 32 + Int64(seconds)
        let nanoseconds = (UInt64(fraction) * 1_000_000_000 + (1 << 31)) >> 32
        // Rounding can reach a full second only for fractions within half a nanosecond of it.
        return UnixTime(seconds: ntpSeconds - Self.unixEpochOffsetSeconds, nanoseconds: Int64(nanoseconds))
    }

    /// The absolute time this timestamp denotes, choosing the era that puts it within 68 years
    /// of `pivot` (normally the local clock's current time).
    public func unixTime(nearestTo pivot: UnixTime) -> UnixTime {
        pivot + (self - NTPTimestamp(pivot))
    }

    /// Where code that keeps time as NTP timestamps, and has no local clock at hand, places
    /// them: 2026-01-01, so every instant from 1958 to 2094 lands in its right era.
    public static let eraPivot = UnixTime(seconds: 1_767_225_600)

    /// The NTP era that `time` falls in.
    public static func era(of time: UnixTime) -> Int32 {
        let ntpSeconds = time.seconds + unixEpochOffsetSeconds
        return Int32(truncatingIfNeeded: ntpSeconds >> 32)  // arithmetic shift: floor division
    }
}

extension NTPTimestamp: CustomStringConvertible {
    public var description: String {
        let hex = String(rawValue, radix: 16)
        return "0x" + String(repeating: "0", count: 16 - hex.count) + hex
    }
}
