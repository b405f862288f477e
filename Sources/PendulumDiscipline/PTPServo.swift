import PendulumTime

/// The clock-discipline core configured as a PTP servo: one source (the parent), fed one sample
/// per Sync. The PTP port has already removed the path delay; the filter gets the resulting
/// offset with the round trip (twice the mean path delay) as the sample's delay, and turns
/// them into steps and frequency corrections. Used by pendulum-ptpd and the PTP simulator.
public struct PTPServo: Sendable {
    private static let parent = SourceID(0)
    private let configuration: DisciplineConfiguration
    public private(set) var discipline: ClockDiscipline

    /// - Parameters:
    ///   - logSyncInterval: the port's log2 Sync interval (fixes the filter's sample interval).
    ///   - stepThreshold: offsets beyond this (s) are stepped once synchronised; nil: never.
    ///   - firstStepThreshold: offsets beyond this (s) are stepped at the first synchronisation.
    public init(logSyncInterval: Int8, stepThreshold: Double?, firstStepThreshold: Double?) {
        var configuration = DisciplineConfiguration()
        let log = Int(logSyncInterval)
        configuration.pollLimits = log...log
        configuration.burstCount = 0
        configuration.startupStepThreshold = firstStepThreshold
        configuration.stepThreshold = stepThreshold
        configuration.panicThreshold = nil
        configuration.startupPanicThreshold = nil
        // Sync messages come every second or faster; offsets are slewed over at least 16 s, the
        // servo's figures against ptp4l were measured with that (NTP's floor is 4 s).
        configuration.minimumSlewTime = 16
        self.configuration = configuration
        discipline = ClockDiscipline(configuration: configuration)
        discipline.addSource(Self.parent)
    }

    /// The bound proven by the last selection, and the local time (after its step, if any) it
    /// held at: it grows by its drift from there.
    private var boundAnchor: (time: NTPTimestamp, bound: ClockErrorBound)?

    /// How far the steered clock may be from the grandmaster's time at local time `time`; nil
    /// before the first synchronisation. After the parent is lost it keeps growing, marked
    /// unsynchronised.
    public func errorBound(at time: UnixTime) -> ClockErrorBound? {
        guard let anchor = boundAnchor else { return nil }
        var bound = anchor.bound
        bound.maximumError += bound.maximumDrift * max(0, (NTPTimestamp(time) - anchor.time).seconds)
        return bound
    }

    /// A new parent (or none): its samples do not continue the old ones.
    public mutating func restart() {
        boundAnchor?.bound.synchronized = false
        slaveToMaster = nil
        discipline = ClockDiscipline(configuration: configuration)
        discipline.addSource(Self.parent)
    }

    /// The slave-to-master leg (t4 − t3, Delay_Resp correction removed) of the latest E2E delay
    /// exchange, paired with each following Sync like NTP's four timestamps.
    private var slaveToMaster: NTPDuration?
    /// Delay exchanges to ignore: one that straddled a step mixes two timescales.
    private var delayExchangesToSkip = 0

    /// A completed E2E delay exchange.
    public mutating func delayMeasured(slaveToMaster leg: NTPDuration) {
        if delayExchangesToSkip > 0 {
            delayExchangesToSkip -= 1
            return
        }
        slaveToMaster = leg
    }

    /// One Sync. `masterToSlave` is t2 − t1 less corrections (local − master offset plus the
    /// Sync's delay), `meanPathDelay` the delay the port removed from it (E2E or P2P), and
    /// `localTime` the Sync's ingress on the steered clock.
    ///
    /// With an E2E slave-to-master leg at hand, the sample is NTP's: offset = (s2m − m2s)/2 and
    /// delay = m2s + s2m, so the filter sees how much queueing each sample met on both legs and
    /// weighs it accordingly, and the estimate stays unbiased for symmetric paths (no median
    /// delay filter in between). Without one (P2P, or just after a step) the port's delay stands
    /// in: offset = mpd − m2s, and the delay is mpd plus this Sync's delay as the filter's
    /// current offset estimate implies it (2·mpd before the filter has one).
    public mutating func handle(masterToSlave: NTPDuration, meanPathDelay: NTPDuration, localTime: UnixTime)
        -> DisciplineUpdate
    {
        let offset: NTPDuration
        let delay: NTPDuration
        if let slaveToMaster {
            offset = NTPDuration.midpoint(slaveToMaster, NTPDuration.zero - masterToSlave)
            delay = masterToSlave + slaveToMaster
        } else {
            offset = meanPathDelay - masterToSlave
            let pathDelay = meanPathDelay < .zero ? NTPDuration.zero : meanPathDelay
            if let estimate = discipline.estimate(for: Self.parent, at: NTPTimestamp(localTime)) {
                // This Sync's own delay, as far as the filter's offset estimate tells: its
                // queueing then weighs the sample as a round trip's would.
                let syncDelay = masterToSlave + NTPDuration(approximateSeconds: estimate.offset)
                delay = pathDelay + (syncDelay < .zero ? .zero : syncDelay)
            } else {
                delay = pathDelay + pathDelay
            }
        }
        let sample = Measurement(offset: offset, delay: delay, localTime: NTPTimestamp(localTime), stratum: 1, leap: .none)
        let update = discipline.handle(sample, from: Self.parent)
        var timeAfterActions = NTPTimestamp(localTime)
        for case .step(let amount) in update.actions {
            timeAfterActions = timeAfterActions + amount
            slaveToMaster = nil
            delayExchangesToSkip = 1
        }
        if let bound = discipline.errorBoundAtLastSelection {
            boundAnchor = (timeAfterActions, bound)
        } else {
            boundAnchor?.bound.synchronized = false
        }
        return update
    }
}
