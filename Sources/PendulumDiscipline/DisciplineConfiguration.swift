/// Everything a daemon may configure about clock discipline. Defaults suit an NTP client of a
/// few internet or LAN servers.
public struct DisciplineConfiguration: Sendable, Hashable {
    /// log2 seconds. The default 4...10 (16 s to 17 min) is what public servers tolerate.
    public var pollLimits: ClosedRange<Int> = 4...10
    /// Quick polls when a source starts (iburst), at 2^burstIntervalLog2 s. Eight, as ntpd's
    /// iburst: four leave the frequency so uncertain that the clock wanders off by hundreds of
    /// microseconds over the first regular interval (measured against chronyd, issue 13).
    public var burstCount = 8
    public var burstIntervalLog2 = 0
    /// Before the first synchronisation, how long (s, from the first answer) to wait for every
    /// source to answer before selecting among those that did: long enough for the burst's
    /// second request to each.
    public var startupGatherTime: Double = 2
    /// Requests per poll for a source with `burst` (at the same spacing), as chrony's four.
    public var regularBurstCount = 4
    /// Adaptive polling aims for a statistical error of this fraction of half the minimum
    /// delay (see `PollController`), but never below `minimumPollTarget` seconds.
    public var pollBalance: Double = 0.1
    public var minimumPollTarget: Double = 1e-6
    /// Sources that must agree (after falseticker rejection) before the clock is steered. One
    /// means a single server, or two that agree, are enough.
    public var minimumAgreeingSources = 1
    /// Samples a source must have before it counts once the clock has been synchronised.
    public var minimumSamples = 3
    /// The same before the first synchronisation: one answer already says how far off a clock
    /// that starts seconds wrong is, to within half its round trip, so the start-up step need
    /// not wait for a second and third (selection still needs its agreeing sources).
    public var minimumSamplesAtStartup = 1
    /// At startup (first synchronisation) offsets beyond this are stepped; nil: never.
    public var startupStepThreshold: Double? = 0.001
    /// After startup, offsets beyond this are stepped; nil: always slew.
    public var stepThreshold: Double? = 0.128
    /// Offsets beyond this are refused (reported, not applied) after startup; nil: no limit.
    public var panicThreshold: Double? = 1000
    /// The same at startup; nil: accept any offset for the first synchronisation.
    public var startupPanicThreshold: Double? = nil
    /// Largest frequency correction ever applied, s/s. 500 ppm is ADJ_FREQUENCY's limit; a
    /// daemon raises it to what its clock can do (the system clock slews through the tick too).
    public var maximumFrequency: Double = 500e-6
    /// The frequency correction to start from, s/s: a drift file's, or the kernel's current
    /// one. Its uncertainty goes into `filter.initialFrequencyUncertainty`.
    public var initialFrequency: Double = 0
    /// RFC 5905's MAXDIST (s): a source whose root distance ((root delay + delay) / 2 + root
    /// dispersion) is larger is not selectable.
    public var maximumRootDistance: Double = 1.5
    /// The published leap seconds (leap-seconds.list), when known: while it has not expired it
    /// alone decides whether a leap second ends today (`LeapSecondPolicy`) and gives the TAI
    /// offset handed to the clock.
    public var leapSeconds: LeapSecondTable?
    /// An offset is slewed away over max(this, slewPollFactor × the interval to the next poll)
    /// seconds. The filter's offset is already its best estimate, so it is removed within two
    /// polls: over eight (as before) a known error stood for minutes; within one, a single lost
    /// reply let the slew run on to twice the offset. The floor of a few seconds keeps 1 s
    /// polling from chasing each sample (16 s held a start-up residual for 15 s); it does not
    /// apply during the start-up burst, where the offset goes within two burst intervals.
    public var minimumSlewTime: Double = 4
    public var slewPollFactor: Double = 2
    /// Extra uncertainty assumed for a source beyond its filter's (s): the half-width floor of
    /// its interval in selection.
    public var selectionMargin: Double = 1e-5
    /// A source silent for this many of its poll intervals stops counting.
    public var stalePollCount: Double = 8
    public var filter = SourceFilter.Configuration()

    public init() {}
}
