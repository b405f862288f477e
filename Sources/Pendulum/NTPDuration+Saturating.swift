import PendulumTime

extension NTPDuration {
    /// The sum, held at the ends of the range: an absurd root dispersion from a server must
    /// widen an interval, never wrap it around.
    func saturatingAdd(_ other: NTPDuration) -> NTPDuration {
        let (sum, overflow) = rawValue.addingReportingOverflow(other.rawValue)
        if overflow { return other.rawValue > 0 ? .max : .min }
        return NTPDuration(rawValue: sum)
    }
}
