import PendulumDiscipline
import PendulumNTP
import PendulumNTS
import PendulumTime

/// The NTP client without I/O, the twin of `PTPInstance`: every source's state machine (polls,
/// bursts, reachability, kiss-o'-death back-off and demobilisation, NTS cookies and re-keying,
/// reply validation) and the system part (selection, combining, discipline, poll control,
/// leap, clock actions, pools).
///
/// Events go in (`start`, `timerFired`, `transmitted`, `received`, `resolved`,
/// `keyExchangeCompleted`, ...), each with the steered clock's reading when it happened, and
/// `ClientAction`s come out for the shell to carry out. No thread, socket, lock or clock
/// inside: pendulum-ntpd runs it from one event loop, `pendulum simulate` in virtual time, so
/// the simulator's figures are the daemon's.
public struct NTPClientCore: Sendable {
    var discipline: ClockDiscipline
    let specifications: [SourceSpecification]
    var sources: [SourceID: ClientSource] = [:]
    private var nextID = 0
    /// Per pool specification index: addresses taken out for misbehaving, not to be reused
    /// while the pool has other addresses to offer.
    var poolRetired: [Int: Set<String>] = [:]
    /// Pools with a name resolution outstanding.
    var poolsResolving: Set<Int> = []
    private var random: ClientRandomSource
    /// Steps this core ordered: an exchange that was out during one is measured on two time
    /// scales, so its sample is dropped.
    private var clockSteps = 0
    /// Steps plus moves by others: an exchange begun before either cannot be completed.
    private var clockDisturbances = 0
    private var lastPrimary: SourceID?
    /// Panic refusals since the clock was last steered. Logged at the 1st, 2nd, 4th, 8th, …:
    /// sources held an hour off by an attacker for a day at 1 s polling write a few dozen
    /// lines, not one per sample.
    private var panicRefusals = 0
    /// The error bound at the last selection and when that was (local time after its actions):
    /// `errorBound(at:)` grows it from there.
    private var boundAnchor: (time: NTPTimestamp, bound: ClockErrorBound)?
    let certificateTimePolicy: CertificateTimePolicy
    /// The clock has been synchronised since start: certificates are judged by it from then on.
    var clockTrusted = false

    /// A pool member is replaced after this many polls without any answer.
    public static let unreachablePollLimit = 6
    /// … or after being a falseticker in this many selections in a row.
    public static let falsetickerLimit = 4
    /// A configured server's name is resolved again (and NTS-KE run again) after this many
    /// unanswered polls in a row.
    public static let reresolveAfterMisses = 8
    /// How often pool members are checked for replacement.
    public static let poolMaintenanceInterval = NTPDuration(seconds: 8)

    public init(
        sources specifications: [SourceSpecification], configuration: DisciplineConfiguration = DisciplineConfiguration(),
        random: ClientRandomSource = ClientRandomSource(), certificateTimePolicy: CertificateTimePolicy = .afterAgreement
    ) {
        self.specifications = specifications
        self.random = random
        self.certificateTimePolicy = certificateTimePolicy
        discipline = ClockDiscipline(configuration: configuration)
    }

    public var system: SystemState { discipline.system }

    /// The frequency a drift file should keep; nil while not synchronised.
    public var frequencyEstimate: DriftRecord? { discipline.frequencyEstimate }

    /// Steps ordered so far.
    public var stepCount: Int { clockSteps }

    // MARK: Events

    /// Mobilises the configured servers (the first request of each goes out at once: nothing
    /// is gained by waiting a poll interval before a source has ever been asked) and the pools.
    public mutating func start() -> [ClientAction] {
        var actions: [ClientAction] = []
        // A drift file's (or the kernel's) frequency is in force before the first answer.
        if discipline.configuration.initialFrequency != 0 {
            actions.append(.steer(.setFrequency(discipline.configuration.initialFrequency)))
        }
        for specification in specifications where specification.mode != .pool {
            actions += addSource(specification, poolIndex: nil, address: nil)
        }
        if specifications.contains(where: { $0.mode == .pool }) {
            actions.append(.setTimer(.poolMaintenance, after: .zero))
        }
        return actions
    }

    public mutating func timerFired(_ timer: ClientTimer, at now: NTPTimestamp) -> [ClientAction] {
        switch timer {
        case .poll(let id):
            guard var source = sources[id] else { return [] }
            discipline.pollSent(to: id)
            let review = discipline.reviewSelection(at: now)
            let lost = review.events.isEmpty && review.actions.isEmpty ? [] : apply(review, at: now)
            source.polls += 1
            let started = source.beginPoll(steps: clockDisturbances, random: &random)
            sources[id] = source
            return lost + started.actions + finish(id, started.outcome, at: now)
        case .deadline(let id):
            return update(id, at: now) { $0.deadlinePassed() }
        case .poolMaintenance:
            return maintainPools()
        case .slewEnd:
            return discipline.endSlew(at: now).actions.map { .steer($0) }
        case .leapReview:
            return apply(discipline.reviewSelection(at: now), at: now)
        }
    }

    /// The shell sent the request: `sent` is T1 (the kernel's transmit timestamp where there
    /// is one, on the steered clock's scale).
    public mutating func transmitted(_ id: SourceID, at sent: NTPTimestamp) {
        sources[id]?.transmitted(at: sent)
    }

    /// A datagram on the source's socket; `arrival` is T4 on the steered clock's scale.
    public mutating func received(_ bytes: [UInt8], from id: SourceID, at arrival: NTPTimestamp) -> [ClientAction] {
        let steps = clockDisturbances
        return update(id, at: arrival) { $0.received(bytes, at: arrival, steps: steps) }
    }

    /// Sending failed, or the socket reported an error (ICMP port unreachable).
    public mutating func exchangeFailed(_ id: SourceID, reason: String, at now: NTPTimestamp) -> [ClientAction] {
        update(id, at: now) { $0.exchangeFailed(reason) }
    }

    public mutating func resolved(_ id: SourceID, addresses: [ResolvedAddress], at now: NTPTimestamp) -> [ClientAction] {
        guard var source = sources[id] else { return [] }
        let next = source.resolved(addresses, steps: clockDisturbances, random: &random)
        sources[id] = source
        return next.actions + finish(id, next.outcome, at: now)
    }

    public mutating func resolutionFailed(_ id: SourceID, reason: String, at now: NTPTimestamp) -> [ClientAction] {
        update(id, at: now) { $0.resolutionFailed(reason) }
    }

    /// NTS-KE finished: `association` holds the keys and cookies, NTP goes to `ntpHost`
    /// (`ntpPort`, or the configured port when the server named none). `certificateValidity`:
    /// the run deferred the certificate time check and the chain is valid only then.
    public mutating func keyExchangeCompleted(
        _ id: SourceID, association: NTSClientAssociation, ntpHost: String, ntpPort: UInt16?,
        certificateValidity: CertificateValidity? = nil, at now: NTPTimestamp
    ) -> [ClientAction] {
        guard var source = sources[id] else { return [] }
        var certificateValidity = certificateValidity
        // A deferred run that was out when the clock was set: judge its certificate by the
        // clock now, as a checked run would have.
        if clockTrusted, let validity = certificateValidity {
            let local = now.unixTime(nearestTo: NTPTimestamp.eraPivot).seconds
            guard validity.notBefore <= local && local <= validity.notAfter else {
                return keyExchangeFailed(id, reason: "NTS-KE: the server's certificate is valid \(Self.utc(validity.notBefore)) to \(Self.utc(validity.notAfter)), not now (\(Self.utc(now)))", at: now)
            }
            certificateValidity = nil
        }
        let next = source.keyExchangeCompleted(
            association, ntpHost: ntpHost, ntpPort: ntpPort, certificateValidity: certificateValidity,
            steps: clockDisturbances, random: &random)
        sources[id] = source
        let note = certificateValidity.map { validity in
            [ClientAction.log(.warning, "source \(source.specification.displayAddress): certificate valid \(Self.utc(validity.notBefore)) to \(Self.utc(validity.notAfter)), not at the local clock's \(Self.utc(now)): used only if NTS sources with other keys agree on a time within that (certificate-time-check = \"after-agreement\")")]
        } ?? []
        return note + next.actions + finish(id, next.outcome, at: now)
    }

    public mutating func keyExchangeFailed(_ id: SourceID, reason: String, at now: NTPTimestamp) -> [ClientAction] {
        update(id, at: now) { $0.keyExchangeFailed(reason) }
    }

    // MARK: A poll's end

    /// Runs one event through a source's state machine and acts on the poll's end, if it was one.
    private mutating func update(_ id: SourceID, at now: NTPTimestamp, _ event: (inout ClientSource) -> SourceOutcome?) -> [ClientAction] {
        guard var source = sources[id] else { return [] }
        let outcome = event(&source)
        sources[id] = source
        return finish(id, outcome, at: now)
    }

    /// Acts on a finished poll and schedules the source's next one.
    private mutating func finish(_ id: SourceID, _ outcome: SourceOutcome?, at now: NTPTimestamp) -> [ClientAction] {
        guard let outcome, var source = sources[id] else { return [] }
        var actions: [ClientAction] = [.cancelTimer(.deadline(id))]
        let name = source.specification.displayAddress
        var interval: NTPDuration
        switch outcome {
        case .measurement(let measurement, let receivedAt, let unusable):
            source.backoff = 0
            source.reach = source.reach << 1 | 1
            source.consecutiveMisses = 0
            source.lastError = nil
            if let address = source.address { discipline.setReferenceID(address.referenceID, for: id) }
            guard !unusable else {
                sources[id] = source
                discipline.answeredWithoutSample(by: id)
                actions.append(.log(.debug, "source \(name): answered, but the exchange it completes was measured already or straddled a clock step"))
                actions.append(.setTimer(.poll(id), after: discipline.nextPollInterval(for: id)))
                return actions
            }
            source.lastMeasurement = measurement
            if source.provisionalCertificate != nil && !source.vouched {
                source.heldSample = (measurement, receivedAt)
                sources[id] = source
                actions.append(.log(.debug, "source \(name): offset \(measurement.offset.seconds) s, delay \(measurement.delay.seconds) s, held back until NTS sources agree on a time within its certificate's validity"))
                actions += considerProvisionalSources(at: receivedAt)
                actions.append(.setTimer(.poll(id), after: discipline.nextPollInterval(for: id)))
                return actions
            }
            sources[id] = source
            let update = discipline.handle(measurement, from: id, at: receivedAt)
            actions += apply(update, at: receivedAt)
            interval = update.nextPollInterval
            actions.append(.log(.debug, "source \(name): offset \(measurement.offset.seconds) s, delay \(measurement.delay.seconds) s (\(source.interleavedAnswers) interleaved answers so far); estimate \(discipline.system.offset) s ± \(discipline.system.uncertainty) s\(Self.frequencyDescription(discipline.filter(for: id))); next poll in \(interval.seconds) s"))
        case .noReply, .failed, .ntsNAK, .kissOfDeath:
            let description = outcome.description
            // An authenticated DENY or RSTR: NTS proves the server really means it.
            var demobilize = false
            if case .kissOfDeath(let code) = outcome {
                source.backoff += 1
                demobilize = source.specification.mode == .nts && ["DENY", "RSTR"].contains(code)
            }
            source.reach <<= 1
            source.consecutiveMisses += 1
            source.lastError = description
            source.demobilized = demobilize
            interval = discipline.nextPollInterval(for: id)
            // RATE and friends: back off exponentially, up to 2^10 s more.
            if source.backoff > 0 { interval = interval + NTPDuration(seconds: Int64(1) << Int64(min(source.backoff, 10))) }
            if demobilize {
                source.reach = 0
                sources[id] = source
                discipline.removeSource(id)
                actions.append(.log(.warning, "source \(name) demobilised: authenticated kiss-o'-death \(description)"))
                actions.append(.cancelTimer(.poll(id)))
                return actions
            }
            if case .ntsNAK = outcome {
                actions.append(.log(.info, "source \(name): NTS NAK, running NTS-KE again"))
            } else if source.consecutiveMisses == Self.reresolveAfterMisses {
                // The name may point elsewhere now; an NTS server may have lost our keys.
                source.startAfresh()
                actions.append(.log(.info, "source \(name): \(source.consecutiveMisses) polls unanswered (\(description)); resolving its name again"))
            } else if source.consecutiveMisses == 1 {
                if case .failed = outcome {
                    actions.append(.log(.warning, "source \(name): \(description)"))
                } else {
                    actions.append(.log(.info, "source \(name): \(description)"))
                }
            } else {
                actions.append(.log(.debug, "source \(name): \(description) (\(source.consecutiveMisses) in a row)"))
            }
            sources[id] = source
        }
        actions.append(.setTimer(.poll(id), after: interval))
        return actions
    }

    /// The shell saw the clock moved by someone else (`LocalClockWatch`): `amount` seconds,
    /// positive forward. An exchange that straddled the move is worthless, as after a step.
    public mutating func localClockMoved(by amount: NTPDuration, at now: NTPTimestamp) -> [ClientAction] {
        clockDisturbances += 1
        for id in sources.keys { sources[id]?.interleavedPrevious = nil }
        let note: [ClientAction] = [.log(.debug, "the local clock moved by \(amount.seconds) s against CLOCK_BOOTTIME: exchanges in flight are void")]
        // Until the discipline has judged the move, the clock may be off by all of it.
        boundAnchor?.bound.maximumError += abs(amount.seconds)
        return note + apply(discipline.localClockMoved(by: amount.seconds, at: now), at: now)
    }

    func names(_ ids: [SourceID]) -> String {
        ids.isEmpty ? "none" : ids.map { sources[$0]?.specification.displayAddress ?? "\($0)" }.joined(separator: ", ")
    }

    /// Turns the discipline's decisions into actions, and keeps falseticker verdicts and the
    /// selected source current.
    mutating func apply(_ update: DisciplineUpdate, at now: NTPTimestamp) -> [ClientAction] {
        var actions: [ClientAction] = []
        var steered = false
        var timeAfterActions = now
        for action in update.actions {
            actions.append(.steer(action))
            switch action {
            case .step(let amount):
                timeAfterActions = timeAfterActions + amount
                panicRefusals = 0
                clockSteps += 1
                clockDisturbances += 1
                // Every exchange's times are now on the old scale: nothing left to complete.
                for id in sources.keys { sources[id]?.interleavedPrevious = nil }
                actions.append(.log(.notice, "clock stepped by \(amount) s (sources \(names(discipline.system.survivors)))"))
            case .setFrequency:
                panicRefusals = 0
                steered = true
            case .setLeap(let leap):
                actions.append(.log(.notice, leap == .none ? "no leap second at the end of today" : "leap second at the end of today: \(leap)"))
            case .setTAIOffset(let offset):
                actions.append(.log(.info, "TAI − UTC is \(offset) s (leap-seconds.list)"))
            }
        }
        var falsetickers: [SourceID]?
        for event in update.events {
            actions.append(.observed(event))
            switch event {
            case .falsetickers(let ids): falsetickers = ids
            case .synchronized: actions.append(.log(.notice, "synchronised"))
            case .lostSynchronization: actions.append(.log(.warning, "lost synchronisation: not enough sources agree"))
            case .panicThresholdExceeded(let offset, let ids):
                panicRefusals += 1
                guard panicRefusals & (panicRefusals - 1) == 0 else { break }
                let limit = discipline.configuration.panicThreshold.map { "\($0)" } ?? "none"
                let repeated = panicRefusals > 1 ? " (refusal \(panicRefusals) in a row; the next line at \(panicRefusals * 2))" : ""
                actions.append(.log(.error, "offset \(offset) s (sources \(names(ids))) exceeds the panic threshold (\(limit) s): not steering\(repeated)"))
            case .sourcesJumpedTogether(let amount):
                actions.append(.log(.warning, "most sources jumped by \(amount) s together and the local clock did not move: judged as their offset"))
            case .localClockMoved(let amount):
                actions.append(.log(.warning, "the local clock was moved by \(amount) s outside this daemon"))
            default: break
            }
        }
        // A selection ran: its verdict on every source replaces the previous one.
        if steered {
            actions.append(update.slewDuration.map { .setTimer(.slewEnd, after: $0) } ?? .cancelTimer(.slewEnd))
        }
        if let after = update.leapReviewAfter { actions.append(.setTimer(.leapReview, after: after)) }
        if steered || falsetickers != nil {
            let wrong = Set(falsetickers ?? [])
            for (id, var source) in sources {
                let isWrong = wrong.contains(id)
                if isWrong && !source.isFalseticker {
                    actions.append(.log(.warning, "source \(source.specification.displayAddress) is a falseticker: it disagrees with the majority"))
                }
                source.isFalseticker = isWrong
                source.falsetickerStreak = isWrong ? source.falsetickerStreak + 1 : 0
                sources[id] = source
            }
        }
        let system = discipline.system
        if system.synchronized && !clockTrusted { actions += trustClock() }
        if system.primary != lastPrimary {
            if let primary = system.primary, let source = sources[primary] {
                actions.append(.log(.notice, "selected source \(source.specification.displayAddress) (stratum \(source.lastMeasurement.map { String($0.stratum) } ?? "?"))"))
            } else if let previous = lastPrimary {
                actions.append(.log(.warning, "source \(sources[previous]?.specification.displayAddress ?? "#\(previous.rawValue)") no longer selected; no source selected"))
            }
            lastPrimary = system.primary
        }
        if let bound = discipline.errorBoundAtLastSelection {
            boundAnchor = (timeAfterActions, bound)
        } else if boundAnchor != nil {
            boundAnchor?.bound.synchronized = false
        }
        // The kernel's maxerror is the published bound (grown since the sources were lost);
        // before the first synchronisation, what the selection has.
        let maximumError = errorBound(at: timeAfterActions)?.maximumError ?? system.rootDelay / 2 + system.rootDispersion + system.uncertainty
        actions.append(.setSynchronized(
            system.synchronized,
            maximumError: NTPDuration(approximateSeconds: maximumError),
            estimatedError: NTPDuration(approximateSeconds: system.uncertainty)
        ))
        return actions
    }

    /// How far the clock may be from true time at local time `now`: the bound of the last
    /// selection grown by the drift since. nil before the first synchronisation.
    public func errorBound(at now: NTPTimestamp) -> ClockErrorBound? {
        guard let anchor = boundAnchor else { return nil }
        var bound = anchor.bound
        let elapsed = max(0, (now - anchor.time).seconds)
        bound.maximumError += bound.maximumDrift * elapsed
        return bound
    }

    // MARK: Sources

    mutating func addSource(_ specification: SourceSpecification, poolIndex: Int?, address: ResolvedAddress?) -> [ClientAction] {
        let id = SourceID(nextID)
        nextID += 1
        var source = ClientSource(id: id, specification: specification, poolIndex: poolIndex, address: address)
        source.certificateTime = clockTrusted || certificateTimePolicy == .always ? .againstLocalClock : .deferredUntilAgreement
        sources[id] = source
        discipline.addSource(id, referenceID: address?.referenceID ?? 0, polling: specification.polling)
        return [.setTimer(.poll(id), after: .zero)]
    }

    // MARK: Status

    /// The source filter's frequency in a debug line: whether the filter's confidence in it is
    /// earned is what decides how far the clock wanders between polls.
    static func frequencyDescription(_ filter: SourceFilter?) -> String {
        guard let filter, filter.isStarted else { return "" }
        return "; residual frequency \(filter.frequency * 1e6) ± \(filter.p11.squareRoot() * 1e6) ppm"
    }

    /// Every source as status shows it, the filter's estimates taken at `now`.
    public func sourceStatuses(at now: NTPTimestamp) -> [ClientSourceStatus] {
        let primary = discipline.system.primary
        return sources.keys.sorted().compactMap { id in
            guard let source = sources[id] else { return nil }
            let estimate = discipline.estimate(for: id, at: now)
            return ClientSourceStatus(
                id: id, specification: source.specification, address: source.address, reach: source.reach,
                offsetSeconds: estimate?.offset ?? source.lastMeasurement.map { $0.offset.seconds },
                delaySeconds: source.lastMeasurement?.delay.seconds, uncertaintySeconds: estimate?.uncertainty,
                pollLog2: discipline.pollLog2(for: id), stratum: source.lastMeasurement?.stratum,
                cookies: source.specification.mode == .nts ? source.cookiesHeld : nil,
                selected: primary == id, falseticker: source.isFalseticker, lastError: source.lastError,
                interleavedAnswers: source.interleavedAnswers
            )
        }
    }
}
