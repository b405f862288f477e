/// A signed time interval in NTP's native resolution: units of 2⁻³² s (about 233 ps).
///
/// This is exactly what the difference of two 64-bit NTP timestamps is, so offsets and delays
/// computed from wire timestamps stay exact integers; it spans ±68 years, the NTP
/// disambiguation window. Arithmetic saturates instead of trapping, because operands are often
/// derived from untrusted packets.
public struct NTPDuration: Sendable, Hashable, Comparable {
    /// The interval in units of 2⁻³² s.
    public var rawValue: Int64

    public init(rawValue: Int64) {
        self.rawValue = rawValue
    }

    public static let zero = NTPDuration(rawValue: 0)
    public static let max = NTPDuration(rawValue: .max)
    public static let min = NTPDuration(rawValue: .min)

    static let unitsPerSecond: Int64 = 1 << 32

    /// `seconds` whole seconds plus `nanoseconds`, saturating outside ±68 years.
    public init(seconds: Int64, nanoseconds: Int64 = 0) {
        let whole = Self.saturatingMultiply(seconds, Self.unitsPerSecond)
        self = NTPDuration(rawValue: whole) + .nanoseconds(nanoseconds)
    }

    /// The interval nearest to `count` nanoseconds, saturating outside ±68 years.
    public static func nanoseconds(_ count: Int64) -> NTPDuration {
        let seconds = count / 1_000_000_000
        let remainder = count % 1_000_000_000  // same sign as count
        let whole = saturatingMultiply(seconds, unitsPerSecond)
        // |remainder| < 1e9, so remainder·2³² < 4.3e18 fits in Int64.
        let scaled = remainder << 32
        let fraction = (scaled + (scaled >= 0 ? 500_000_000 : -500_000_000)) / 1_000_000_000
        return NTPDuration(rawValue: whole) + NTPDuration(rawValue: fraction)
    }

    public static func seconds(_ count: Int64) -> NTPDuration {
        NTPDuration(seconds: count)
    }

    public static func microseconds(_ count: Int64) -> NTPDuration {
        nanoseconds(saturatingMultiply(count, 1_000))
    }

    public static func milliseconds(_ count: Int64) -> NTPDuration {
        nanoseconds(saturatingMultiply(count, 1_000_000))
    }

    /// The nearest whole number of nanoseconds (ties away from negative infinity).
    public var nanoseconds: Int64 {
        let seconds = rawValue >> 32  // floor division by 2³²
        let fraction = rawValue & 0xFFFF_FFFF  // non-negative remainder
        return seconds * 1_000_000_000 + (fraction * 1_000_000_000 + (1 << 31)) >> 32
    }

    /// The interval in seconds as a floating-point number, for display and for the filters,
    /// which work in real numbers. Never round-trip wire timestamps through this.
    public var seconds: Double {
        Double(rawValue) / Double(Self.unitsPerSecond)
    }

    /// The interval nearest to `seconds`, saturating; NaN becomes zero.
    public init(approximateSeconds seconds: Double) {
        let scaled = (seconds * Double(Self.unitsPerSecond)).rounded()
        if scaled.isNaN {
            rawValue = 0
        } else if scaled >= 9.223372036854775807e18 {
            rawValue = .max
        } else if scaled <= -9.223372036854775808e18 {
            rawValue = .min
        } else {
            rawValue = Int64(scaled)
        }
    }

    public var magnitude: NTPDuration {
        rawValue == .min ? .max : NTPDuration(rawValue: Swift.abs(rawValue))
    }

    /// Half of the interval, rounded toward negative infinity.
    public var halved: NTPDuration {
        NTPDuration(rawValue: rawValue >> 1)
    }

    /// (a + b) / 2 without intermediate overflow: the NTP offset formula's shape.
    public static func midpoint(_ a: NTPDuration, _ b: NTPDuration) -> NTPDuration {
        let sumOfHalves = (a.rawValue >> 1) + (b.rawValue >> 1)
        let carry = ((a.rawValue & 1) + (b.rawValue & 1)) >> 1
        return NTPDuration(rawValue: sumOfHalves + carry)
    }

    public var swiftDuration: Duration {
        .nanoseconds(nanoseconds)
    }

    public static func + (lhs: NTPDuration, rhs: NTPDuration) -> NTPDuration {
        let (sum, overflow) = lhs.rawValue.addingReportingOverflow(rhs.rawValue)
        guard overflow else { return NTPDuration(rawValue: sum) }
        return rhs.rawValue > 0 ? .max : .min
    }

    public static func - (lhs: NTPDuration, rhs: NTPDuration) -> NTPDuration {
        let (difference, overflow) = lhs.rawValue.subtractingReportingOverflow(rhs.rawValue)
        guard overflow else { return NTPDuration(rawValue: difference) }
        return rhs.rawValue < 0 ? .max : .min
    }

    public static prefix func - (value: NTPDuration) -> NTPDuration {
        value.rawValue == .min ? .max : NTPDuration(rawValue: -value.rawValue)
    }

    public static func += (lhs: inout NTPDuration, rhs: NTPDuration) { lhs = lhs + rhs }
    public static func -= (lhs: inout NTPDuration, rhs: NTPDuration) { lhs = lhs - rhs }

    public static func < (lhs: NTPDuration, rhs: NTPDuration) -> Bool {
        lhs.rawValue < rhs.rawValue
    }

    static func saturatingMultiply(_ a: Int64, _ b: Int64) -> Int64 {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        guard overflow else { return product }
        return (a < 0) == (b < 0) ? .max : .min
    }
}

extension NTPDuration: CustomStringConvertible {
    /// Seconds with nanosecond digits and an explicit sign, e.g. "+0.000123457".
    public var description: String {
        let total = nanoseconds
        let sign = total < 0 ? "-" : "+"
        let magnitude = total.magnitude
        let fraction = String(magnitude % 1_000_000_000)
        let padded = String(repeating: "0", count: 9 - fraction.count) + fraction
        return "\(sign)\(magnitude / 1_000_000_000).\(padded)"
    }
}
