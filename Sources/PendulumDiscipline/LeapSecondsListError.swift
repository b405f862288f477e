import PendulumTime

/// Why a leap-seconds.list was refused. The daemon then runs as without one (the sources'
/// announcements decide) after saying so: a damaged list must never invent or hide a leap.
public enum LeapSecondsListError: Error, Sendable, Hashable, CustomStringConvertible {
    case tooLarge(Int)
    case malformedLine(Int)
    case missingUpdateTime
    case missingExpiry
    case malformedHash(Int)
    case hashMismatch
    case noEntries
    case notFirstOfMonth(Int64)
    case offsetOutOfRange(Int)
    case notAscending(Int64)
    case notOneSecondStep(Int64)
    case expiresBeforeUpdate

    public var description: String {
        switch self {
        case .tooLarge(let size): "\(size) bytes: a leap-seconds.list is a few kilobytes (limit \(LeapSecondsList.maximumSize))"
        case .malformedLine(let line): "line \(line): expected \"NTP-seconds TAI-offset\", \"#$ NTP-seconds\", \"#@ NTP-seconds\", \"#h hash\" or a comment"
        case .missingUpdateTime: "no \"#$\" line (when the list was updated)"
        case .missingExpiry: "no \"#@\" line (when the list expires)"
        case .malformedHash(let line): "line \(line): \"#h\" must be followed by five groups of 8 hexadecimal digits (SHA-1)"
        case .hashMismatch: "the SHA-1 in the \"#h\" line does not match the list: damaged or edited"
        case .noEntries: "no leap second entries"
        case .notFirstOfMonth(let start): "entry \(Self.date(start)) is not midnight UTC on the first of a month"
        case .offsetOutOfRange(let offset): "TAI offset \(offset) is outside 0...1000 s"
        case .notAscending(let start): "entry \(Self.date(start)) is not later than the one before"
        case .notOneSecondStep(let start): "entry \(Self.date(start)) changes the TAI offset by other than one second"
        case .expiresBeforeUpdate: "the list expires before it was updated"
        }
    }

    /// An entry as the list's comments name it: its NTP seconds and UTC date.
    private static func date(_ unixSeconds: Int64) -> String {
        let ntp = unixSeconds &+ LeapSecondsList.ntpToUnix
        return CivilDate(unixSeconds: unixSeconds).map { "\(ntp) (\($0), \(unixSeconds % 86_400) s into the day)" } ?? "\(ntp)"
    }
}
