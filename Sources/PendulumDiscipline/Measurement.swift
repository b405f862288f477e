import PendulumTime

/// One completed exchange with a source: what the filter needs, nothing of the wire format.
///
/// `offset` is server time minus local time (positive: the local clock is behind), `delay`
/// the round trip minus the server's turnaround. `localTime` is the local clock's reading
/// when the response arrived (T4); the discipline uses it as the measurement's time.
public struct Measurement: Sendable, Hashable {
    public var offset: NTPDuration
    public var delay: NTPDuration
    public var localTime: NTPTimestamp
    public var rootDelay: NTPShort
    public var rootDispersion: NTPShort
    public var stratum: UInt8
    public var leap: LeapIndicator
    /// The reference ID the source itself reports (its upstream), used for loop detection.
    public var sourceReferenceID: UInt32

    public init(
        offset: NTPDuration, delay: NTPDuration, localTime: NTPTimestamp,
        rootDelay: NTPShort = .zero, rootDispersion: NTPShort = .zero,
        stratum: UInt8 = 1, leap: LeapIndicator = .none, sourceReferenceID: UInt32 = 0
    ) {
        self.offset = offset
        self.delay = delay
        self.localTime = localTime
        self.rootDelay = rootDelay
        self.rootDispersion = rootDispersion
        self.stratum = stratum
        self.leap = leap
        self.sourceReferenceID = sourceReferenceID
    }

    /// The RFC 5905 on-wire calculation in exact integer arithmetic:
    /// offset = ((T2 − T1) + (T3 − T4)) / 2, delay = (T4 − T1) − (T3 − T2).
    /// T1 and T4 are local (client) times, T2 and T3 the server's.
    public init(
        t1: NTPTimestamp, t2: NTPTimestamp, t3: NTPTimestamp, t4: NTPTimestamp,
        rootDelay: NTPShort = .zero, rootDispersion: NTPShort = .zero,
        stratum: UInt8 = 1, leap: LeapIndicator = .none, sourceReferenceID: UInt32 = 0
    ) {
        self.init(
            offset: NTPDuration.midpoint(t2 - t1, t3 - t4),
            delay: (t4 - t1) - (t3 - t2),
            localTime: t4,
            rootDelay: rootDelay, rootDispersion: rootDispersion,
            stratum: stratum, leap: leap, sourceReferenceID: sourceReferenceID
        )
    }
}
