/// IEEE 1588 TimeInterval: a signed interval in units of 2⁻¹⁶ ns, the shape of the
/// correctionField (§5.3.2).
///
/// It spans about ±39 hours. Arithmetic saturates instead of trapping because operands come
/// from untrusted messages; a saturated value stays saturated through later additions of the
/// same sign, so an impossible measurement is visibly impossible rather than wrapped.
public struct PTPTimeInterval: Sendable, Hashable, Comparable {
    /// The interval in units of 2⁻¹⁶ nanoseconds, exactly as carried on the wire.
    public var scaledNanoseconds: Int64

    public init(scaledNanoseconds: Int64) {
        self.scaledNanoseconds = scaledNanoseconds
    }

    public static let zero = PTPTimeInterval(scaledNanoseconds: 0)
    public static let max = PTPTimeInterval(scaledNanoseconds: .max)
    public static let min = PTPTimeInterval(scaledNanoseconds: .min)

    /// Whether the value is at either end of the range, i.e. possibly the result of saturation.
    public var isSaturated: Bool { scaledNanoseconds == .max || scaledNanoseconds == .min }

    /// `count` whole nanoseconds, saturating outside ±39 hours.
    public static func nanoseconds(_ count: Int64) -> PTPTimeInterval {
        let (scaled, overflow) = count.multipliedReportingOverflow(by: 1 << 16)
        guard overflow else { return PTPTimeInterval(scaledNanoseconds: scaled) }
        return count < 0 ? .min : .max
    }

    public static func microseconds(_ count: Int64) -> PTPTimeInterval {
        nanoseconds(saturatingMultiply(count, 1_000))
    }

    public static func milliseconds(_ count: Int64) -> PTPTimeInterval {
        nanoseconds(saturatingMultiply(count, 1_000_000))
    }

    public static func seconds(_ count: Int64) -> PTPTimeInterval {
        nanoseconds(saturatingMultiply(count, 1_000_000_000))
    }

    /// Whole nanoseconds, rounded toward negative infinity.
    public var wholeNanoseconds: Int64 { scaledNanoseconds >> 16 }

    /// The nearest whole number of nanoseconds (ties toward positive infinity).
    public var roundedNanoseconds: Int64 {
        let (biased, overflow) = scaledNanoseconds.addingReportingOverflow(1 << 15)
        return overflow ? Int64.max >> 16 : biased >> 16
    }

    /// The interval in seconds as a floating-point number, for display and estimators only.
    public var seconds: Double { Double(scaledNanoseconds) / 65_536e9 }

    /// The same interval in NTP units (2⁻³² s), rounded to nearest; always in range.
    public var ntpDuration: NTPDuration {
        // scaled · 2³² / (1e9 · 2¹⁶) = scaled · 2¹⁶ / 1e9. Split to stay inside Int64.
        let whole = scaledNanoseconds / 65_536_000_000_000  // whole seconds, toward zero
        let remainder = scaledNanoseconds % 65_536_000_000_000  // |r| < 6.6e13, r·2¹⁶ < 4.3e18
        let scaled = remainder << 16
        let fraction = (scaled + (scaled >= 0 ? 500_000_000 : -500_000_000)) / 1_000_000_000
        return NTPDuration(rawValue: (whole << 32) + fraction)
    }

    /// The interval nearest to `duration`, saturating outside ±39 hours.
    public init(_ duration: NTPDuration) {
        let raw = duration.rawValue
        let seconds = raw >> 32  // floor
        let fraction = raw & 0xFFFF_FFFF  // [0, 2³²)
        // fraction · 1e9 / 2¹⁶ < 6.6e13 · ... fits: 2³² · 1e9 ≈ 4.3e18 < 9.2e18.
        let fractionScaled = (fraction * 1_000_000_000 + (1 << 15)) >> 16
        let whole = PTPTimeInterval.seconds(seconds)
        self = whole + PTPTimeInterval(scaledNanoseconds: fractionScaled)
    }

    /// Half the interval, rounded toward negative infinity: the shape of the mean path delay.
    public var halved: PTPTimeInterval { PTPTimeInterval(scaledNanoseconds: scaledNanoseconds >> 1) }

    public var magnitude: PTPTimeInterval {
        scaledNanoseconds == .min ? .max : PTPTimeInterval(scaledNanoseconds: Swift.abs(scaledNanoseconds))
    }

    public static func + (lhs: PTPTimeInterval, rhs: PTPTimeInterval) -> PTPTimeInterval {
        let (sum, overflow) = lhs.scaledNanoseconds.addingReportingOverflow(rhs.scaledNanoseconds)
        guard overflow else { return PTPTimeInterval(scaledNanoseconds: sum) }
        return rhs.scaledNanoseconds > 0 ? .max : .min
    }

    public static func - (lhs: PTPTimeInterval, rhs: PTPTimeInterval) -> PTPTimeInterval {
        let (difference, overflow) = lhs.scaledNanoseconds.subtractingReportingOverflow(rhs.scaledNanoseconds)
        guard overflow else { return PTPTimeInterval(scaledNanoseconds: difference) }
        return rhs.scaledNanoseconds < 0 ? .max : .min
    }

    public static prefix func - (value: PTPTimeInterval) -> PTPTimeInterval {
        value.scaledNanoseconds == .min ? .max : PTPTimeInterval(scaledNanoseconds: -value.scaledNanoseconds)
    }

    public static func += (lhs: inout PTPTimeInterval, rhs: PTPTimeInterval) { lhs = lhs + rhs }
    public static func -= (lhs: inout PTPTimeInterval, rhs: PTPTimeInterval) { lhs = lhs - rhs }

    public static func < (lhs: PTPTimeInterval, rhs: PTPTimeInterval) -> Bool {
        lhs.scaledNanoseconds < rhs.scaledNanoseconds
    }

    static func saturatingMultiply(_ a: Int64, _ b: Int64) -> Int64 {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        guard overflow else { return product }
        return (a < 0) == (b < 0) ? .max : .min
    }
}

extension PTPTimeInterval: CustomStringConvertible {
    /// Nanoseconds with the 2⁻¹⁶ fraction in hex when present, e.g. "-1500ns" or "12ns+0x8000/2^16".
    public var description: String {
        let fraction = scaledNanoseconds & 0xFFFF
        let whole = scaledNanoseconds >> 16
        return fraction == 0 ? "\(whole)ns" : "\(whole)ns+0x\(String(fraction, radix: 16))/2^16"
    }
}
