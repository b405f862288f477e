import PendulumTime

/// The clock-discipline core: per-source Kalman filters, poll control, source selection and
/// combining, and the steering decisions — with no I/O, timers or clocks of its own.
///
/// ## How a daemon drives it
/// ```swift
/// var discipline = ClockDiscipline(configuration: config)
/// let firstPoll = discipline.addSource(id, referenceID: refidOfAddress)  // poll after this
/// // each time a poll goes out (whether or not an answer comes):
/// discipline.pollSent(to: id)
/// // each valid answer: T1..T4 and header fields, timestamps as the local clock read them
/// let update = discipline.handle(Measurement(t1:t2:t3:t4:...), from: id)
/// for action in update.actions { apply(action) }   // .step / .setFrequency / .setLeap, in order
/// schedulePoll(id, after: update.nextPollInterval)
/// let served = discipline.system                  // stratum, refid, root delay/dispersion, leap
/// ```
/// The discipline assumes every action it returns is applied at once (at the sample's local
/// time). Frequencies are absolute corrections in s/s; steps are relative. `removeSource`
/// forgets a source; `nextPollInterval(for:)` answers after timeouts. A PTP servo uses the same
/// type with one source and `pollLimits` fixed to its sync interval, feeding measurements built
/// from t1..t4 of Sync/Delay_Req exchanges.
///
/// Behaviour in between: before the first synchronisation nothing is steered; the first
/// selection steps if the offset exceeds `startupStepThreshold` (unless beyond
/// `startupPanicThreshold`), then offsets are slewed through the frequency, stepped beyond
/// `stepThreshold` and refused beyond `panicThreshold` (`.panicThresholdExceeded`, no action).
/// When selection fails (no majority, too few agreeing sources, all unreachable) the last
/// frequency is kept (holdover) and `system` reports stratum 16 / leap unsynchronised. When the
/// shell sees the local clock moved by someone else (`localClockMoved`), the filters follow the
/// move and its offset is judged like any other. When most sources jump together without the
/// local clock moving (`.sourcesJumpedTogether`), it is the sources: their new offset is judged
/// like any other too, so after the first synchronisation nothing (a man in the middle, a bad
/// NTS server) gets a step past `panicThreshold`.
/// Status: `system`, `estimate(for:at:)`, `filter(for:)` (covariance, wander), `pollLog2(for:)`.
///
/// Local time inside is seconds since the first timestamp seen (`epoch`), so every input
/// timestamp must come from the clock being steered.
public struct ClockDiscipline: Sendable {
    struct SourceState: Sendable {
        var filter: SourceFilter
        var poll: PollController
        var reach: UInt8 = 0
        var referenceID: UInt32
        var stratum: UInt8 = 16
        var leap: LeapIndicator = .unsynchronized
        var rootDelay: Double = 0
        var rootDispersion: Double = 0
        var lastJump: (time: Double, amount: Double)?
        /// It has been a selection candidate since it was added.
        var hasCounted = false
    }

    public let configuration: DisciplineConfiguration
    private let policy: SteeringPolicy
    private var sources: [SourceID: SourceState] = [:]
    private var epoch: NTPTimestamp?
    private var frequencyCorrection: Double = 0
    /// The part of `frequencyCorrection` that slews the last offset away and is taken off
    /// again when the slew time is over.
    private var pendingSlew: Double = 0
    private var hasSynchronized = false
    /// The primary's frequency uncertainty at the last steering, s/s.
    private var lastFrequencyUncertainty: Double?
    private var announcedLeap = LeapIndicator.none
    /// What the selected sources voted at the last selection, before `LeapSecondPolicy`.
    private var leapVote = LeapIndicator.none
    /// The midnight (Unix seconds) of the leap second last announced: samples around it are
    /// not trusted.
    private var leapMidnight: Int64?
    private var announcedTAIOffset: Int?
    /// Unix seconds at `epoch`, to answer calendar questions about local times.
    private var epochUnixSeconds: Double = 0
    public private(set) var system = SystemState()

    public init(configuration: DisciplineConfiguration = DisciplineConfiguration()) {
        self.configuration = configuration
        policy = SteeringPolicy(configuration: configuration)
        frequencyCorrection = configuration.initialFrequency
        system.frequencyCorrection = configuration.initialFrequency
    }

    /// The frequency correction without the part that is slewing an offset away: what a drift
    /// file keeps. nil until the clock has been synchronised (before, it is only a guess);
    /// after synchronisation is lost the correction in force is still the best there is.
    public var frequencyEstimate: DriftRecord? {
        guard let lastFrequencyUncertainty else { return nil }
        return DriftRecord(frequency: frequencyCorrection - pendingSlew, uncertainty: lastFrequencyUncertainty)
    }

    /// Unanswered polls take sources out of selection without any measurement arriving: once
    /// too few remain, the system stops claiming to be synchronised (to the kernel, whose
    /// STA_UNSYNC other programs read, and to its own clients) instead of advertising the last
    /// selection's accuracy for ever.
    public mutating func reviewSelection(at localTime: NTPTimestamp) -> DisciplineUpdate {
        var update = DisciplineUpdate()
        guard system.synchronized, let epoch else { return update }
        let now = (localTime - epoch).seconds
        if SourceSelection.select(candidates(at: now), minimumAgreeing: configuration.minimumAgreeingSources) == nil {
            markUnsynchronized(into: &update)
        } else {
            // A new day withdraws yesterday's leap second without waiting for a selection.
            decideLeap(at: now, into: &update)
        }
        return update
    }

    private mutating func markUnsynchronized(into update: inout DisciplineUpdate) {
        system.synchronized = false
        system.leap = .unsynchronized
        system.stratum = 16
        update.events.append(.lostSynchronization)
    }

    public var sourceIDs: [SourceID] { sources.keys.sorted() }

    /// The shell saw the steered clock move by `amount` seconds (positive: forward) without this
    /// daemon stepping it (`LocalClockWatch`). Every source's estimate follows the move, so the
    /// offset it leaves is steered away, stepped or refused like any other; the first
    /// synchronisation's rules do not come back. A leap second carried out by the clock is
    /// such a move too, and is not one to undo.
    public mutating func localClockMoved(by amount: Double, at localTime: NTPTimestamp) -> DisciplineUpdate {
        var update = DisciplineUpdate()
        guard amount.isFinite, let epoch else { return update }
        let now = (localTime - epoch).seconds
        if let midnight = leapMidnight, abs(abs(amount) - 1) < 0.1, abs(epochUnixSeconds + now - Double(midnight)) < LeapSecondPolicy.clockMoveWindow {
            return update
        }
        update.events.append(.localClockMoved(amount))
        for key in sources.keys {
            sources[key]?.filter.clockStepped(by: amount)
            sources[key]?.lastJump = nil
        }
        if hasSynchronized { steer(now: now, into: &update) }
        return update
    }

    /// Registers a source. `referenceID` is what this host advertises as its refid while the
    /// source is the primary (IPv4 address, or the MD5 prefix of an IPv6 address); `polling`
    /// overrides the configuration's poll limits and start-up burst for this source.
    @discardableResult
    public mutating func addSource(_ id: SourceID, referenceID: UInt32 = 0, polling: PollSettings? = nil) -> NTPDuration {
        let limits = polling?.limits ?? configuration.pollLimits
        var poll = PollController(
            limits: limits, burstCount: polling?.initialBurst == false ? 0 : configuration.burstCount,
            burstIntervalLog2: configuration.burstIntervalLog2, balance: configuration.pollBalance,
            regularBurstCount: polling?.burstEachPoll == true ? configuration.regularBurstCount : 0
        )
        poll.restart()
        sources[id] = SourceState(
            filter: SourceFilter(configuration: configuration.filter), poll: poll, referenceID: referenceID
        )
        return Self.interval(log2: poll.nextIntervalLog2)
    }

    public mutating func removeSource(_ id: SourceID) {
        sources[id] = nil
    }

    /// Sets the refid advertised while `id` is primary: its address is only known once resolved.
    public mutating func setReferenceID(_ referenceID: UInt32, for id: SourceID) {
        sources[id]?.referenceID = referenceID
    }

    /// A poll went out; an answer (if any) will come through `handle`. Unanswered polls age
    /// the source's reachability and eventually drop it from selection.
    public mutating func pollSent(to id: SourceID) {
        guard var state = sources[id] else { return }
        state.poll.pollSent(reachable: state.reach != 0)
        state.reach <<= 1
        if state.reach == 0 && state.filter.isStarted {
            state.poll.decrease()
        }
        sources[id] = state
    }

    /// The source answered, but with nothing new to measure (an interleaved answer completing
    /// an exchange measured already): it still counts towards the start-up burst's answers,
    /// as a lost one does not.
    public mutating func answeredWithoutSample(by id: SourceID) {
        sources[id]?.poll.answerReceived()
    }

    /// The slew time of the last update is over: the offset it was to remove is gone, so the
    /// frequency goes back to the filter's estimate. Without this a lost answer would leave the
    /// slew running until the next sample, past the offset by as much as it was meant to remove
    /// for every further slew time.
    public mutating func endSlew(at localTime: NTPTimestamp) -> DisciplineUpdate {
        var update = DisciplineUpdate()
        guard pendingSlew != 0, let epoch else { return update }
        let now = (localTime - epoch).seconds
        frequencyCorrection -= pendingSlew
        for key in sources.keys { sources[key]?.filter.frequencyChanged(by: -pendingSlew, at: now) }
        pendingSlew = 0
        system.frequencyCorrection = frequencyCorrection
        update.actions.append(.setFrequency(frequencyCorrection))
        return update
    }

    public func nextPollInterval(for id: SourceID) -> NTPDuration {
        guard let state = sources[id] else { return .zero }
        return Self.interval(log2: state.poll.nextIntervalLog2)
    }

    /// The filter's current estimate for a source: offset (server − local, s) and std-dev.
    public func estimate(for id: SourceID, at localTime: NTPTimestamp) -> (offset: Double, uncertainty: Double)? {
        guard let state = sources[id], state.filter.isStarted, let epoch else { return nil }
        let prediction = state.filter.predicted(at: (localTime - epoch).seconds)
        return (prediction.offset, prediction.variance.squareRoot())
    }

    /// A source's filter, for status reporting (offset, frequency, covariance, wander).
    public func filter(for id: SourceID) -> SourceFilter? { sources[id]?.filter }

    /// A source's current log2 poll interval.
    public func pollLog2(for id: SourceID) -> Int? { sources[id]?.poll.current }

    /// Feeds one measurement and returns what to do. `currentTime` is the local time at which
    /// the actions will be applied, when later than the measurement's own (an interleaved answer
    /// completes the previous exchange, one poll interval old): the sample enters the filter
    /// at its own time, and the clock is steered for `currentTime`.
    public mutating func handle(_ measurement: Measurement, from id: SourceID, at currentTime: NTPTimestamp? = nil) -> DisciplineUpdate {
        var update = DisciplineUpdate()
        guard var state = sources[id] else { return update }
        if epoch == nil {
            epoch = measurement.localTime
            epochUnixSeconds = Self.unixSeconds(measurement.localTime)
        }
        let sampleTime = (measurement.localTime - (epoch ?? measurement.localTime)).seconds
        let now = max(sampleTime, currentTime.map { ($0 - (epoch ?? measurement.localTime)).seconds } ?? sampleTime)
        state.reach |= 1
        state.poll.answerReceived()
        if let midnight = leapMidnight {
            let sampleUnix = Int64((epochUnixSeconds + sampleTime).rounded(.down))
            if sampleUnix >= midnight - LeapSecondPolicy.untrustedBefore, sampleUnix < midnight + LeapSecondPolicy.untrustedAfter {
                sources[id] = state
                update.events.append(.sampleIgnoredAroundLeapSecond(id))
                update.nextPollInterval = nextPollInterval(for: id)
                return update
            }
        }
        state.stratum = measurement.stratum
        state.leap = measurement.leap
        state.rootDelay = measurement.rootDelay.seconds
        state.rootDispersion = measurement.rootDispersion.seconds
        let delay = max(0, measurement.delay.seconds)
        var jumped: Double?
        switch state.filter.update(offset: measurement.offset.seconds, delay: delay, at: sampleTime) {
        case .accepted:
            let interval = PollSettings.seconds(log2: state.poll.current)
            let predicted = state.filter.predicted(at: now + interval).variance.squareRoot()
            let target = max(
                configuration.pollBalance * state.filter.delays.minimumSeen / 2, configuration.minimumPollTarget)
            state.poll.update(predictedError: predicted, target: target)
        case .rejectedDelay:
            update.events.append(.sampleRejectedForDelay(id))
        case .rejectedOutlier:
            update.events.append(.sampleRejectedAsOutlier(id))
        case .jumped(let amount):
            update.events.append(.sourceJumped(id, amount))
            state.poll.restart()
            state.lastJump = (now, amount)
            jumped = amount
        }
        sources[id] = state
        if let amount = jumped, mostSourcesJumped(by: amount, at: now) {
            // Had the local clock moved, the shell would have said so (`localClockMoved`)
            // before these answers: it is the sources that moved, and the offset they now
            // report faces the panic threshold like any other.
            update.events.append(.sourcesJumpedTogether(amount))
            for key in sources.keys { sources[key]?.lastJump = nil }
        }
        steer(now: now, into: &update)
        update.nextPollInterval = nextPollInterval(for: id)
        return update
    }

    private var recentWindow: Double { 4 * PollSettings.seconds(log2: sources.values.map(\.poll.limits.upperBound).max() ?? configuration.pollLimits.upperBound) }

    private func jumpTolerance(_ amount: Double) -> Double { max(abs(amount) / 4, 1e-3) }

    /// More than half of the started sources saw the same jump lately.
    private func mostSourcesJumped(by amount: Double, at now: Double) -> Bool {
        var started = 0
        var agreeing = 0
        for state in sources.values where state.filter.isStarted || state.lastJump != nil {
            started += 1
            if let jump = state.lastJump, abs(jump.time - now) < recentWindow,
                abs(jump.amount - amount) <= jumpTolerance(amount)
            {
                agreeing += 1
            }
        }
        return 2 * agreeing > started
    }

    private func candidates(at now: Double) -> [SourceCandidate] {
        var result: [SourceCandidate] = []
        result.reserveCapacity(sources.count)
        for (id, state) in sources {
            let filter = state.filter
            // A source that has counted before keeps counting: only a newcomer after the first
            // synchronisation (a pool's replacement) must show its filter has settled.
            let samplesNeeded = hasSynchronized && !state.hasCounted ? configuration.minimumSamples : configuration.minimumSamplesAtStartup
            guard state.reach != 0, filter.sampleCount >= samplesNeeded else { continue }
            let age = now - filter.time
            // Sub-second polls (PTP Sync, minpoll < 0) still get a second before going stale.
            let pollSeconds = max(1, PollSettings.seconds(log2: state.poll.current))
            guard age <= configuration.stalePollCount * pollSeconds else { continue }
            guard state.leap != .unsynchronized, state.stratum > 0, state.stratum < 16 else { continue }
            // RFC 5905's root distance: a source this far from its reference cannot vouch for
            // anything (a root dispersion of 65,536 s was being selected).
            let rootDistance = (state.rootDelay + filter.lastDelay) / 2 + state.rootDispersion
            guard rootDistance <= configuration.maximumRootDistance else { continue }
            let prediction = filter.predicted(at: now)
            let bound = 3 * prediction.variance.squareRoot() + filter.delays.minimumSeen / 2
                + state.rootDelay / 2 + state.rootDispersion + configuration.selectionMargin
            result.append(
                SourceCandidate(
                    id: id, offset: prediction.offset, variance: prediction.variance,
                    frequency: prediction.frequency, bound: bound, stratum: state.stratum, leap: state.leap,
                    rootDelay: state.rootDelay, rootDispersion: state.rootDispersion, delay: filter.lastDelay
                ))
        }
        result.sort { $0.id < $1.id }
        return result
    }

    private mutating func steer(now: Double, into update: inout DisciplineUpdate) {
        let all = candidates(at: now)
        // Before the first synchronisation every source gets a moment to answer: the first
        // answer alone may come from a falseticker, and stepping to it would take minutes to
        // undo. A source that has not answered by then is not waited for.
        if !hasSynchronized, all.count < sources.count, now < configuration.startupGatherTime { return }
        for candidate in all { sources[candidate.id]?.hasCounted = true }
        guard let selection = SourceSelection.select(all, minimumAgreeing: configuration.minimumAgreeingSources)
        else {
            if system.synchronized { markUnsynchronized(into: &update) }
            return
        }
        if !selection.falsetickers.isEmpty {
            update.events.append(.falsetickers(selection.falsetickers))
        }
        var offset = selection.offset
        // Local time after the actions: a step moves the calendar the leap decision reads.
        var timeAfterActions = now
        switch policy.decide(offset: offset, startup: !hasSynchronized) {
        case .refuse:
            update.events.append(.panicThresholdExceeded(offset, sources: selection.survivors))
            return
        case .step(let amount):
            update.actions.append(.step(NTPDuration(approximateSeconds: amount)))
            for key in sources.keys { sources[key]?.filter.clockStepped(by: amount) }
            offset = 0
            timeAfterActions += amount
        case .slew:
            break
        }
        // Remove the frequency error now and the offset over the slew time.
        // The interval until the primary's next sample: during a burst that is the burst's
        // second, not minpoll, so a start-up offset is gone by the end of the burst.
        let primaryPoll = PollSettings.seconds(log2: sources[selection.primary]?.poll.nextIntervalLog2 ?? 0)
        // The burst is there to set the clock in seconds, so within it the floor that keeps
        // regular polling from chasing each sample does not apply: it held the error of a first
        // exchange sent down a cold path (one request late, as the first packet to a host that
        // waits for address resolution) for ten seconds and more at 1 s polling.
        let inStartupBurst = sources[selection.primary]?.poll.inStartupBurst ?? false
        let slewTime = max(inStartupBurst ? primaryPoll : configuration.minimumSlewTime, configuration.slewPollFactor * primaryPoll)
        // An earlier slew still running shows in the filter's frequency, so it ends here.
        let base = frequencyCorrection + selection.frequency
        var wanted = base + offset / slewTime
        let limit = configuration.maximumFrequency
        if abs(wanted) > limit {
            update.events.append(.frequencyLimited(wanted))
            wanted = wanted > 0 ? limit : -limit
        }
        let change = wanted - frequencyCorrection
        frequencyCorrection = wanted
        pendingSlew = abs(base) < limit ? wanted - base : 0
        if pendingSlew != 0 { update.slewDuration = NTPDuration(approximateSeconds: slewTime) }
        for key in sources.keys { sources[key]?.filter.frequencyChanged(by: change, at: now) }
        update.actions.append(.setFrequency(wanted))
        leapVote = selection.leap
        decideLeap(at: timeAfterActions, into: &update)
        if !system.synchronized { update.events.append(.synchronized) }
        hasSynchronized = true
        lastFrequencyUncertainty = sources[selection.primary].map { $0.filter.p11.squareRoot() } ?? lastFrequencyUncertainty
        describeSystem(selection: selection, offset: offset)
    }

    private mutating func describeSystem(selection: SelectionResult, offset: Double) {
        guard let primary = sources[selection.primary] else { return }
        system.synchronized = true
        system.stratum = min(16, primary.stratum &+ 1)
        system.referenceID = primary.referenceID
        system.leap = announcedLeap
        system.rootDelay = primary.rootDelay + primary.filter.lastDelay
        system.rootDispersion = primary.rootDispersion + selection.variance.squareRoot() + abs(offset)
        system.offset = selection.offset
        system.uncertainty = selection.variance.squareRoot()
        system.frequencyCorrection = frequencyCorrection
        system.survivors = selection.survivors
        system.primary = selection.primary
    }

    /// Brings the clock's leap second and TAI offset in line with the sources' vote and the
    /// leap-seconds.list, for the local time `now`.
    private mutating func decideLeap(at now: Double, into update: inout DisciplineUpdate) {
        let unixNow = Int64((epochUnixSeconds + now).rounded(.down))
        let leap = LeapSecondPolicy.decide(announced: leapVote, at: unixNow, table: configuration.leapSeconds)
        if leap != announcedLeap {
            announcedLeap = leap
            update.actions.append(.setLeap(leap))
            if leap != .none {
                let midnight = CivilDate.midnight(after: unixNow)
                leapMidnight = midnight
                let fraction = (epochUnixSeconds + now) - Double(unixNow)
                update.leapReviewAfter = NTPDuration(approximateSeconds: Double(midnight + LeapSecondPolicy.untrustedAfter - unixNow) - fraction)
            }
        }
        system.leap = announcedLeap
        if let table = configuration.leapSeconds, !table.isExpired(at: unixNow),
            let offset = table.taiOffset(at: unixNow), offset != announcedTAIOffset
        {
            announcedTAIOffset = offset
            update.actions.append(.setTAIOffset(offset))
        }
    }

    /// An NTP timestamp read from the clock as Unix seconds.
    static func unixSeconds(_ time: NTPTimestamp) -> Double {
        let unix = time.unixTime(nearestTo: NTPTimestamp.eraPivot)
        return Double(unix.seconds) + Double(unix.nanoseconds) * 1e-9
    }

    static func interval(log2: Int) -> NTPDuration { PollSettings.interval(log2: log2) }
}
