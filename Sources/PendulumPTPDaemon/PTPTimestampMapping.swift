import PendulumIO
import PendulumPTP
import PendulumTime

/// Turns a socket's packet timestamp into a PTP timestamp of the steered clock, or nil when the
/// timestamp is of the wrong kind for the port (the exchange is then not measured, never
/// measured with a timestamp from another clock).
struct PTPTimestampMapping: Sendable {
    var hardwareTimestamps: Bool
    var clockIsUTC: Bool

    /// `clockTime` reads the steered clock at a system-clock instant (software timestamps are
    /// system-clock readings). For transmit timestamps a user-space reading is refused: it
    /// would include the system call's latency.
    func ptpTimestamp(of stamp: PacketTimestamp, transmit: Bool, timeProperties: TimePropertiesDataset,
                      clockTime: (UnixTime) -> UnixTime) -> PTPTimestamp? {
        if hardwareTimestamps {
            // A raw hardware timestamp is the PHC's own reading: already the steered clock, on
            // the PTP timescale.
            guard stamp.source == .hardware else { return nil }
            return PTPTimestamp(stamp.time)
        }
        switch stamp.source {
        case .hardware: return nil  // not asked for; another clock's time
        case .userSpace where transmit: return nil
        case .kernel, .userSpace: break
        }
        let local = clockTime(stamp.time)
        if clockIsUTC && timeProperties.ptpTimescale && timeProperties.currentUtcOffsetValid {
            return PTPTimestamp(utc: local, currentUtcOffset: timeProperties.currentUtcOffset)
        }
        return PTPTimestamp(local)
    }
}
