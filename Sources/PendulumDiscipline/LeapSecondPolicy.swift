import PendulumTime

/// Which leap second, if any, the clock should carry out at the end of today.
///
/// The kernel inserts or deletes at the next UTC midnight whenever STA_INS/STA_DEL is set, so
/// an announcement may only reach it on the day itself. NTP servers differ in how early they
/// set the leap indicator (ntpd the whole month, chrony the last day) and a stale or forged
/// one must not move the clock by a second on an ordinary night:
/// - a leap-seconds.list that has not expired decides alone: it is the published schedule;
/// - otherwise the majority of the selected sources decides (a minority's announcement never
///   reaches this far: selection counts votes), and only on the last day of June or December,
///   the only ends of month the IERS has ever used.
public enum LeapSecondPolicy {
    public static func decide(announced: LeapIndicator, at unixSeconds: Int64, table: LeapSecondTable?) -> LeapIndicator {
        if let table, !table.isExpired(at: unixSeconds) {
            return table.leap(atEndOfDayContaining: unixSeconds)
        }
        guard announced == .insertSecond || announced == .deleteSecond,
            let today = CivilDate(unixSeconds: unixSeconds), today.isLastDayOfMonth, today.month == 6 || today.month == 12
        else { return .none }
        return announced
    }

    /// How long around a leap midnight samples are not trusted: the source or this clock may
    /// already have moved by the second while the other has not.
    public static let untrustedBefore: Int64 = 2
    public static let untrustedAfter: Int64 = 3
    /// A move of the local clock by one second this close to the leap's midnight is the kernel
    /// carrying out the leap, not someone moving the clock. Wider than the sample window:
    /// the move is noticed by a once-a-second watch, and a clock running slightly off may put
    /// the kernel's midnight a few seconds from ours.
    public static let clockMoveWindow: Double = 10
}
