/// A proleptic Gregorian UTC date, for printing timestamps and for the calendar questions leap
/// seconds raise (is today the last day of June?) without Foundation's calendars or time zones.
public struct CivilDate: Sendable, Hashable, CustomStringConvertible {
    public var year: Int64
    public var month: Int  // 1...12
    public var day: Int  // 1...31

    /// Years ±1,000,000 around 1970 are far beyond any clock; refusing the rest keeps the
    /// arithmetic on input from overflowing.
    static let supportedDays: ClosedRange<Int64> = -365_242_500...365_242_500

    /// The UTC date of this instant (Unix seconds), or nil when it is absurdly far away.
    public init?(unixSeconds: Int64) {
        let days = unixSeconds >= 0 ? unixSeconds / 86_400 : (unixSeconds &+ 1) / 86_400 &- 1
        guard Self.supportedDays.contains(days) else { return nil }
        self.init(daysSinceUnixEpoch: days)
    }

    /// The date `days` days after 1970-01-01 (Howard Hinnant's civil-from-days algorithm).
    /// Callers keep `days` within `supportedDays` (a timestamp's seconds / 86,400 always is).
    public init(daysSinceUnixEpoch days: Int64) {
        // Days since 0000-03-01, counted in 400-year eras of 146,097 days: March first makes
        // the leap day the last of its year.
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthFromMarch = (5 * dayOfYear + 2) / 153
        day = Int(dayOfYear - (153 * monthFromMarch + 2) / 5 + 1)
        month = Int(monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9)
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    }

    /// As a tuple, for printing timestamps.
    public static func from(daysSinceUnixEpoch days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let date = CivilDate(daysSinceUnixEpoch: days)
        return (date.year, Int64(date.month), Int64(date.day))
    }

    /// The inverse: days from 1970-01-01 to this date (Howard Hinnant's days-from-civil).
    public static func daysSinceUnixEpoch(year: Int64, month: Int64, day: Int64) -> Int64 {
        let adjustedYear = month <= 2 ? year - 1 : year
        let era = (adjustedYear >= 0 ? adjustedYear : adjustedYear - 399) / 400
        let yearOfEra = adjustedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The first UTC midnight strictly after this instant.
    public static func midnight(after unixSeconds: Int64) -> Int64 {
        let clamped = min(max(unixSeconds, -Int64(1) << 50), Int64(1) << 50)
        let day = clamped >= 0 ? clamped / 86_400 : (clamped + 1) / 86_400 - 1
        return (day + 1) * 86_400
    }

    /// The last day of its month: the only day a leap second can end.
    public var isLastDayOfMonth: Bool {
        let lengths = [31, isLeapYear ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return day == lengths[month - 1]
    }

    var isLeapYear: Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    public var description: String {
        let pad = { (value: Int) in value < 10 ? "0\(value)" : "\(value)" }
        return "\(year)-\(pad(month))-\(pad(day))"
    }
}
