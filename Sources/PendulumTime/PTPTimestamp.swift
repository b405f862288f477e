/// IEEE 1588 Timestamp (§5.3.3): 48 bits of seconds and 32 bits of nanoseconds since the PTP
/// epoch, 1970-01-01T00:00:00 TAI.
///
/// The fields are kept exactly as received so that a parsed message serialises back to the
/// same bytes; `isValid` says whether they denote a time (nanoseconds < 10⁹). Times on the PTP
/// timescale are TAI; `utc(currentUtcOffset:)` and `init(utc:currentUtcOffset:)` convert.
public struct PTPTimestamp: Sendable, Hashable, Comparable {
    /// Seconds since the epoch; only the low 48 bits are meaningful on the wire.
    public var seconds: UInt64
    public var nanoseconds: UInt32

    public static let maximumSeconds: UInt64 = (1 << 48) - 1

    /// Stores the fields as given; check `isValid` before using the value as a time.
    public init(seconds: UInt64, nanoseconds: UInt32) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    public static let zero = PTPTimestamp(seconds: 0, nanoseconds: 0)

    /// Whether the fields denote a time: seconds fit in 48 bits and nanoseconds < 10⁹.
    public var isValid: Bool { seconds <= Self.maximumSeconds && nanoseconds < 1_000_000_000 }

    /// The timestamp of a time on the same scale as `time` (no TAI/UTC conversion), clamped to
    /// the representable range [epoch, 2⁴⁸ s).
    public init(_ time: UnixTime) {
        if time.seconds < 0 {
            self = .zero
        } else if UInt64(time.seconds) > Self.maximumSeconds {
            self.init(seconds: Self.maximumSeconds, nanoseconds: 999_999_999)
        } else {
            self.init(seconds: UInt64(time.seconds), nanoseconds: UInt32(time.nanoseconds))
        }
    }

    /// The same instant as a UnixTime on the same scale (no TAI/UTC conversion). Invalid
    /// nanoseconds are carried into seconds by UnixTime's normalisation.
    public var unixTime: UnixTime {
        UnixTime(seconds: Int64(seconds & Self.maximumSeconds), nanoseconds: Int64(nanoseconds))
    }

    /// UTC for a timestamp on the PTP (TAI) timescale: TAI − currentUtcOffset (37 s since 2017).
    public func utc(currentUtcOffset: Int16) -> UnixTime {
        let tai = unixTime
        return UnixTime(seconds: tai.seconds - Int64(currentUtcOffset), nanoseconds: Int64(tai.nanoseconds))
    }

    /// The PTP-timescale (TAI) timestamp of a UTC time: UTC + currentUtcOffset.
    public init(utc: UnixTime, currentUtcOffset: Int16) {
        self.init(UnixTime(seconds: utc.seconds &+ Int64(currentUtcOffset), nanoseconds: Int64(utc.nanoseconds)))
    }

    /// The timestamp as total nanoseconds since the epoch; 2⁴⁸ s · 10⁹ needs more than 64 bits,
    /// so this saturates beyond about the year 2262.
    public var totalNanoseconds: Int64 {
        let secondsPart = PTPTimeInterval.saturatingMultiply(Int64(seconds & Self.maximumSeconds), 1_000_000_000)
        let (sum, overflow) = secondsPart.addingReportingOverflow(Int64(nanoseconds))
        return overflow ? .max : sum
    }

    /// The signed interval from `rhs` to `lhs` in whole nanoseconds, saturating.
    public func nanoseconds(since rhs: PTPTimestamp) -> Int64 {
        let secondsLhs = Int64(seconds & Self.maximumSeconds)
        let secondsRhs = Int64(rhs.seconds & Self.maximumSeconds)
        // Both < 2⁴⁸, so the difference cannot overflow; the product may.
        let secondDifference = secondsLhs - secondsRhs
        let nanosecondDifference = Int64(nanoseconds) - Int64(rhs.nanoseconds)
        let secondsPart = PTPTimeInterval.saturatingMultiply(secondDifference, 1_000_000_000)
        let (sum, overflow) = secondsPart.addingReportingOverflow(nanosecondDifference)
        guard overflow else { return sum }
        return nanosecondDifference > 0 ? .max : .min
    }

    /// The interval from `rhs` to `lhs`, saturating at about ±39 hours.
    public static func - (lhs: PTPTimestamp, rhs: PTPTimestamp) -> PTPTimeInterval {
        .nanoseconds(lhs.nanoseconds(since: rhs))
    }

    /// The interval from `rhs` to `lhs` in NTP units; exact to 2⁻³² s, saturating at ±68 years.
    public func duration(since rhs: PTPTimestamp) -> NTPDuration {
        unixTime - rhs.unixTime
    }

    /// The timestamp moved by `interval`, with the sub-nanosecond part rounded toward negative
    /// infinity and the result clamped to the representable range.
    public static func + (lhs: PTPTimestamp, rhs: PTPTimeInterval) -> PTPTimestamp {
        lhs.adding(nanoseconds: rhs.wholeNanoseconds)
    }

    public static func - (lhs: PTPTimestamp, rhs: PTPTimeInterval) -> PTPTimestamp {
        lhs.adding(nanoseconds: (-rhs).wholeNanoseconds)
    }

    /// The timestamp `count` nanoseconds later (earlier when negative), clamped to the range.
    public func adding(nanoseconds count: Int64) -> PTPTimestamp {
        let seconds = Int64(self.seconds & Self.maximumSeconds)
        var carry = count / 1_000_000_000
        var remainder = count % 1_000_000_000 + Int64(nanoseconds % 1_000_000_000)
        if remainder < 0 {
            remainder += 1_000_000_000
            carry -= 1
        } else if remainder >= 1_000_000_000 {
            remainder -= 1_000_000_000
            carry += 1
        }
        let total = seconds + carry  // |carry| < 9.3e9, seconds < 2.9e14: no overflow
        if total < 0 { return .zero }
        if total > Int64(Self.maximumSeconds) {
            return PTPTimestamp(seconds: Self.maximumSeconds, nanoseconds: 999_999_999)
        }
        return PTPTimestamp(seconds: UInt64(total), nanoseconds: UInt32(remainder))
    }

    public static func < (lhs: PTPTimestamp, rhs: PTPTimestamp) -> Bool {
        (lhs.seconds, lhs.nanoseconds) < (rhs.seconds, rhs.nanoseconds)
    }
}

extension PTPTimestamp: CustomStringConvertible {
    public var description: String {
        let fraction = String(nanoseconds)
        return "\(seconds).\(String(repeating: "0", count: Swift.max(0, 9 - fraction.count)))\(fraction)"
    }
}
