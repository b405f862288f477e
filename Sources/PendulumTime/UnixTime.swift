#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An absolute time as seconds and nanoseconds since 1970-01-01T00:00:00Z, the shape of a
/// Linux `timespec`. Always normalised: 0 ≤ nanoseconds < 1e9, negative times have negative
/// seconds.
public struct UnixTime: Sendable, Hashable, Comparable {
    public private(set) var seconds: Int64
    public private(set) var nanoseconds: Int32

    /// Normalises any `nanoseconds`, carrying whole seconds into `seconds`.
    public init(seconds: Int64, nanoseconds: Int64 = 0) {
        var carry = nanoseconds / 1_000_000_000
        var remainder = nanoseconds % 1_000_000_000
        if remainder < 0 {
            remainder += 1_000_000_000
            carry -= 1
        }
        self.seconds = seconds &+ carry
        self.nanoseconds = Int32(remainder)
    }

    public init(_ spec: timespec) {
        self.init(seconds: Int64(spec.tv_sec), nanoseconds: Int64(spec.tv_nsec))
    }

    public var timespec: timespec {
        var spec = Glibc.timespec()
        spec.tv_sec = Int(seconds)
        spec.tv_nsec = Int(nanoseconds)
        return spec
    }

    /// The time moved by `duration`, saturating at the representable range.
    public static func + (lhs: UnixTime, rhs: NTPDuration) -> UnixTime {
        let (whole, fraction) = rhs.splitSecondsAndNanoseconds
        let (seconds, overflow) = lhs.seconds.addingReportingOverflow(whole)
        if overflow { return whole > 0 ? .distantFuture : .distantPast }
        return UnixTime(seconds: seconds, nanoseconds: Int64(lhs.nanoseconds) + fraction)
    }

    public static func - (lhs: UnixTime, rhs: NTPDuration) -> UnixTime {
        lhs + (-rhs)
    }

    /// The interval from `rhs` to `lhs`, saturating at ±68 years.
    public static func - (lhs: UnixTime, rhs: UnixTime) -> NTPDuration {
        let (seconds, overflow) = lhs.seconds.subtractingReportingOverflow(rhs.seconds)
        if overflow { return lhs.seconds > rhs.seconds ? .max : .min }
        return NTPDuration(seconds: seconds, nanoseconds: Int64(lhs.nanoseconds) - Int64(rhs.nanoseconds))
    }

    public static func < (lhs: UnixTime, rhs: UnixTime) -> Bool {
        (lhs.seconds, lhs.nanoseconds) < (rhs.seconds, rhs.nanoseconds)
    }

    public static let distantFuture = UnixTime(seconds: .max, nanoseconds: 999_999_999)
    public static let distantPast = UnixTime(seconds: .min, nanoseconds: 0)
}

extension NTPDuration {
    /// Floor-divided whole seconds and the non-negative nanosecond remainder.
    var splitSecondsAndNanoseconds: (seconds: Int64, nanoseconds: Int64) {
        let seconds = rawValue >> 32
        let fraction = rawValue & 0xFFFF_FFFF
        return (seconds, (fraction * 1_000_000_000 + (1 << 31)) >> 32)
    }
}

extension UnixTime: CustomStringConvertible {
    /// ISO 8601 in UTC with nanoseconds, e.g. "2036-02-07T06:28:16.000000000Z".
    public var description: String {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = CivilDate.from(daysSinceUnixEpoch: days)
        func pad(_ value: Int64, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: Swift.max(0, width - text.count)) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondOfDay / 3600, 2)):"
            + "\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2)).\(pad(Int64(nanoseconds), 9))Z"
    }
}
