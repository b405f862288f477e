/// How a slave that steers a UTC clock (CLOCK_REALTIME) turns the master's time into UTC (§7.2).
extension TimePropertiesDataset {
    /// TAI − UTC in seconds at the time of writing (since 2017-01-01).
    public static let knownUtcOffset: Int16 = 37

    /// Seconds to subtract from the master's time to get UTC. On the PTP timescale that is
    /// currentUtcOffset — if the grandmaster does not vouch for it, no less than the offset we
    /// know to be in force. On an ARB timescale the master distributes its own epoch as is.
    public func utcOffsetToApply(knownUtcOffset: Int16 = TimePropertiesDataset.knownUtcOffset) -> Int16 {
        guard ptpTimescale else { return 0 }
        return currentUtcOffsetValid ? currentUtcOffset : Swift.max(currentUtcOffset, knownUtcOffset)
    }
}
