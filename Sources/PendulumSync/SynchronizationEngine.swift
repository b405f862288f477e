import Foundation
import Logging
import PendulumDiscipline
import PendulumIO
import PendulumNTP
import PendulumTime

/// The client half of the daemon: polls every source on its own thread, feeds the discipline
/// and applies its decisions to the clock. The discipline core decides; this only does I/O,
/// timing and bookkeeping for status. Pools are kept full by a maintenance thread that
/// replaces unreachable servers and falsetickers with fresh addresses.
public final class SynchronizationEngine: @unchecked Sendable {
    public let clock: any SteerableClock
    private let lock = NSLock()
    private var discipline: ClockDiscipline
    private let specifications: [SourceSpecification]
    private var associations: [SourceID: Association] = [:]
    private var nextID = 0
    /// Per pool specification index: addresses taken out for misbehaving, not to be reused
    /// while the pool has other addresses to offer.
    private var poolRetired: [Int: Set<String>] = [:]
    private var threads: [Thread] = []
    private let stopCondition = NSCondition()
    private var stopping = false
    private let logger: Logger
    private var lastPrimary: SourceID?
    private var lastUpdate: UnixTime?
    /// Steps applied so far: a poll that saw it change drops its sample and its source's
    /// interleaved state.
    private var clockSteps = 0
    /// How pool names become addresses; tests give a fixed list.
    private let resolve: @Sendable (String, UInt16) throws -> [SocketAddress]

    /// A pool member is replaced after this many polls without any answer.
    static let unreachablePollLimit = 6
    /// … or after being a falseticker in this many selections in a row.
    static let falsetickerLimit = 4
    /// A configured server's name is resolved again after this many unanswered polls in a row.
    static let reresolveAfterMisses = 8

    /// What status shows per association; guarded by `lock`.
    struct Association {
        var specification: SourceSpecification
        /// Index into `specifications` of the pool this came from.
        var poolIndex: Int?
        var address: String?
        var reach: UInt8 = 0
        var polls = 0
        var consecutiveMisses = 0
        var lastMeasurement: DisciplineMeasurement?
        var cookies = 0
        var lastError: String?
        var isFalseticker = false
        var falsetickerStreak = 0
        var demobilized = false
    }

    public init(
        clock: any SteerableClock, sources specifications: [SourceSpecification],
        configuration: DisciplineConfiguration = DisciplineConfiguration(),
        logger: Logger = Logger(label: "pendulum.sync"),
        resolve: @escaping @Sendable (String, UInt16) throws -> [SocketAddress] = { host, port in try NameResolver.resolve(host, port: port) }
    ) {
        self.clock = clock
        self.logger = logger
        self.resolve = resolve
        self.specifications = specifications
        discipline = ClockDiscipline(configuration: configuration)
    }

    /// Starts one polling thread per server and one thread keeping the pools filled.
    public func start() {
        for specification in specifications where specification.mode != .pool {
            addAssociation(specification, poolIndex: nil)
        }
        if specifications.contains(where: { $0.mode == .pool }) {
            spawn(name: "pools") { [self] in maintainPools() }
        }
    }

    /// Stops polling; returns once every source thread has seen the request (at most one
    /// in-flight poll timeout later).
    public func stop() {
        stopCondition.lock()
        stopping = true
        stopCondition.broadcast()
        stopCondition.unlock()
        let deadline = Date().addingTimeInterval(5)
        while lock.withLock({ threads.contains(where: { $0.isExecuting }) }) && Date() < deadline { usleep(10_000) }
    }

    private func spawn(name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread(block: body)
        thread.name = name
        lock.withLock { threads.append(thread) }
        thread.start()
    }

    private func addAssociation(_ specification: SourceSpecification, poolIndex: Int?) {
        let (id, firstPoll): (SourceID, NTPDuration) = lock.withLock {
            let id = SourceID(nextID)
            nextID += 1
            associations[id] = Association(specification: specification, poolIndex: poolIndex)
            discipline.addSource(id, polling: specification.polling)
            // The first request goes out at once: nothing is gained by waiting a poll interval
            // before a source has ever been asked.
            return (id, NTPDuration.zero)
        }
        // The poller lives and dies on its source's thread.
        spawn(name: "source \(specification.displayAddress)") { [self] in
            run(id: id, poller: SourcePoller(specification: specification, clock: clock, logger: logger), firstPoll: firstPoll)
        }
    }

    /// Takes an association out of selection; its thread ends at its next wake-up.
    private func retire(_ id: SourceID, because reason: String) {
        guard let association = associations.removeValue(forKey: id) else { return }
        discipline.removeSource(id)
        if let poolIndex = association.poolIndex {
            poolRetired[poolIndex, default: []].insert(association.specification.host)
        }
        logger.notice("source \(association.specification.displayAddress) replaced: \(reason)")
    }

    /// Sleeps until `interval` has passed or stop was requested; true if still running.
    private func wait(_ interval: NTPDuration) -> Bool {
        stopCondition.lock()
        defer { stopCondition.unlock() }
        let until = Date().addingTimeInterval(max(0, interval.seconds))
        while !stopping {
            if !stopCondition.wait(until: until) { break }
        }
        return !stopping
    }

    private func isActive(_ id: SourceID) -> Bool { lock.withLock { associations[id] != nil } }

    private func run(id: SourceID, poller: SourcePoller, firstPoll: NTPDuration) {
        var interval = firstPoll
        var backoff = 0
        var stepsSeen = 0
        let name = poller.specification.displayAddress
        while wait(interval), isActive(id) {
            let stepsBeforePoll: Int = lock.withLock {
                discipline.pollSent(to: id)
                return clockSteps
            }
            if stepsBeforePoll != stepsSeen {
                poller.forgetPreviousExchange()
                stepsSeen = stepsBeforePoll
            }
            let result = poller.poll(timeout: replyTimeout(for: poller.specification))
            let address = poller.resolvedAddress
            switch result {
            case .measurement(let measurement, let referenceID, let receivedAt):
                backoff = 0
                let next: NTPDuration? = lock.withLock {
                    guard var record = associations[id] else { return nil }
                    discipline.setReferenceID(referenceID, for: id)
                    // A step while this exchange was out leaves its timestamps on two time
                    // scales: the sample is worthless (and an interleaved one even older).
                    guard clockSteps == stepsBeforePoll else { return discipline.nextPollInterval(for: id) }
                    let update = discipline.handle(measurement, from: id, at: receivedAt)
                    record.reach = record.reach << 1 | 1
                    record.polls += 1
                    record.consecutiveMisses = 0
                    record.lastMeasurement = measurement
                    record.lastError = nil
                    record.address = address?.description
                    record.cookies = poller.cookiesHeld
                    associations[id] = record
                    apply(update)
                    return update.nextPollInterval
                }
                guard let next else { return }
                interval = next
                logger.debug("source \(name): offset \(measurement.offset.seconds) s, delay \(measurement.delay.seconds) s (\(poller.interleavedAnswers) interleaved answers so far); next poll in \(interval.seconds) s")
            case .noReply, .failed, .ntsNAK, .kissOfDeath:
                let description = describe(result)
                let demobilize: Bool
                if case .kissOfDeath(let code) = result, poller.specification.mode == .nts, ["DENY", "RSTR"].contains(code) {
                    demobilize = true  // authenticated by NTS: the server really means it
                } else {
                    demobilize = false
                }
                if case .kissOfDeath = result { backoff += 1 }
                let misses: Int? = lock.withLock {
                    guard var record = associations[id] else { return nil }
                    record.reach <<= 1
                    record.polls += 1
                    record.consecutiveMisses += 1
                    record.lastError = description
                    record.address = address?.description
                    record.cookies = poller.cookiesHeld
                    record.demobilized = demobilize
                    associations[id] = record
                    interval = discipline.nextPollInterval(for: id)
                    return record.consecutiveMisses
                }
                guard let misses else { return }
                // RATE and friends: back off exponentially, up to 2^10 s more.
                if backoff > 0 { interval = interval + NTPDuration(seconds: Int64(1) << Int64(min(backoff, 10))) }
                if demobilize {
                    logger.warning("source \(name) demobilised: authenticated kiss-o'-death \(description)")
                    lock.withLock {
                        discipline.removeSource(id)
                        associations[id]?.reach = 0
                    }
                    return
                }
                if case .ntsNAK = result { logger.info("source \(name): NTS NAK, running NTS-KE again") }
                if misses == Self.reresolveAfterMisses {
                    // The name may point elsewhere now; an NTS server may have lost our keys.
                    poller.startAfresh()
                    logger.info("source \(name): \(misses) polls unanswered (\(description)); resolving its name again")
                } else if misses == 1 {
                    if case .failed = result {
                        logger.warning("source \(name): \(description)")
                    } else {
                        logger.info("source \(name): \(description)")
                    }
                }
            }
        }
    }

    /// Replies later than a second are not worth waiting for; with sub-second polling
    /// (minpoll < 0) a reply is given up at the poll interval, but never before 100 ms.
    private func replyTimeout(for specification: SourceSpecification) -> Duration {
        let minimumLog2 = specification.polling?.limits.lowerBound ?? 0
        guard minimumLog2 < 0 else { return .seconds(1) }
        return .milliseconds(max(100, 1000 >> -minimumLog2))
    }

    private func describe(_ result: PollResult) -> String {
        switch result {
        case .measurement: "ok"
        case .noReply: "no reply"
        case .kissOfDeath(let code): "kiss-o'-death \(code)"
        case .ntsNAK: "NTS NAK"
        case .failed(let reason): reason
        }
    }

    /// Applies the discipline's decisions in order; called with `lock` held.
    private func apply(_ update: DisciplineUpdate) {
        var steered = false
        for action in update.actions {
            do {
                switch action {
                case .step(let amount):
                    clockSteps += 1
                    try clock.step(by: amount)
                    logger.notice("clock stepped by \(amount) s")
                case .setFrequency(let correction):
                    steered = true
                    try clock.setFrequency(correction)
                case .setLeap(let leap):
                    let announcement: LeapAnnouncement = leap == .insertSecond ? .insertSecond : (leap == .deleteSecond ? .deleteSecond : .none)
                    try clock.setLeap(announcement)
                    logger.notice(announcement == .none ? "leap second announcement withdrawn" : "leap second announced by the selected sources: \(announcement)")
                }
            } catch {
                logger.error("clock refused \(action): \(error)")
            }
        }
        var falsetickers: [SourceID]?
        for event in update.events {
            switch event {
            case .falsetickers(let ids):
                falsetickers = ids
            case .synchronized:
                logger.notice("synchronised")
            case .lostSynchronization:
                logger.warning("lost synchronisation: not enough sources agree")
            case .panicThresholdExceeded(let offset):
                logger.error("offset \(offset) s exceeds the panic threshold: not steering")
            case .clockMeddlingDetected(let amount):
                logger.warning("clock was moved by \(amount) s outside this daemon")
            default:
                break
            }
        }
        // A selection ran: its verdict on every source replaces the previous one.
        if steered || falsetickers != nil {
            let wrong = Set(falsetickers ?? [])
            for (id, var record) in associations {
                let isWrong = wrong.contains(id)
                if isWrong && !record.isFalseticker {
                    logger.warning("source \(record.specification.displayAddress) is a falseticker: it disagrees with the majority")
                }
                record.isFalseticker = isWrong
                record.falsetickerStreak = isWrong ? record.falsetickerStreak + 1 : 0
                associations[id] = record
            }
        }
        let system = discipline.system
        if system.primary != lastPrimary {
            if let primary = system.primary, let association = associations[primary] {
                logger.notice("selected source \(association.specification.displayAddress) (stratum \(association.lastMeasurement.map { String($0.stratum) } ?? "?"))")
            } else if let previous = lastPrimary {
                logger.warning("source \(associations[previous]?.specification.displayAddress ?? "#\(previous.rawValue)") no longer selected; no source selected")
            }
            lastPrimary = system.primary
        }
        if steered { lastUpdate = clock.now() }
        try? clock.setSynchronized(
            system.synchronized,
            maximumError: NTPDuration(approximateSeconds: system.rootDelay / 2 + system.rootDispersion + system.uncertainty),
            estimatedError: NTPDuration(approximateSeconds: system.uncertainty)
        )
    }

    // MARK: Pools

    private func maintainPools() {
        var pause = NTPDuration.zero
        while wait(pause) {
            for (index, specification) in specifications.enumerated() where specification.mode == .pool {
                refill(pool: index, specification)
            }
            // Short of servers or not, members are checked for replacement every 8 s.
            pause = .seconds(8)
        }
    }

    /// Replaces a pool's bad members and tops it up to its `poolCount` servers.
    private func refill(pool index: Int, _ pool: SourceSpecification) {
        let (active, inUse): (Int, Set<String>) = lock.withLock {
            for (id, association) in associations where association.poolIndex == index {
                if association.demobilized {
                    retire(id, because: "demobilised by the server")
                } else if association.polls >= Self.unreachablePollLimit && association.reach == 0 {
                    retire(id, because: "unreachable for \(association.polls) polls")
                } else if association.falsetickerStreak >= Self.falsetickerLimit {
                    retire(id, because: "falseticker in \(association.falsetickerStreak) selections in a row")
                }
            }
            let members = associations.values.filter { $0.poolIndex == index }
            return (members.count, Set(associations.values.map(\.specification.host)))
        }
        guard active < pool.poolCount else { return }
        let addresses: [SocketAddress]
        do {
            addresses = try resolve(pool.host, pool.port)
        } catch {
            logger.warning("pool \(pool.host): \(error)")
            return
        }
        var candidates: [String] = []
        for address in addresses where !inUse.contains(address.ipString) && !candidates.contains(address.ipString) {
            candidates.append(address.ipString)
        }
        let retired = lock.withLock { poolRetired[index] ?? [] }
        var fresh = candidates.filter { !retired.contains($0) }
        if fresh.isEmpty && !candidates.isEmpty {
            // Nothing new behind the name: give the retired ones another chance.
            lock.withLock { poolRetired[index] = [] }
            fresh = candidates
        }
        let wanted = pool.poolCount - active
        for host in fresh.prefix(wanted) {
            let member = SourceSpecification(host: host, port: pool.port, mode: .server, poolName: pool.host, polling: pool.polling)
            logger.info("pool \(pool.host): using \(member.displayAddress)")
            addAssociation(member, poolIndex: index)
        }
    }

    // MARK: Observation

    /// A consistent picture of the engine for status, metrics and serving.
    public func snapshot() -> ObservationSnapshot {
        let status = clock.status
        return lock.withLock {
            let system = discipline.system
            let now = NTPTimestamp(clock.now())
            let sourceEntries = associations.keys.sorted().compactMap { id -> ObservationSnapshot.Source? in
                guard let record = associations[id] else { return nil }
                let estimate = discipline.estimate(for: id, at: now)
                return ObservationSnapshot.Source(
                    name: record.specification.displayAddress, address: record.address,
                    mode: record.specification.mode.rawValue, reachable: record.reach != 0, reach: record.reach,
                    offsetSeconds: estimate?.offset ?? record.lastMeasurement.map { $0.offset.seconds },
                    delaySeconds: record.lastMeasurement?.delay.seconds,
                    uncertaintySeconds: estimate?.uncertainty,
                    poll: discipline.pollLog2(for: id),
                    stratum: record.lastMeasurement?.stratum,
                    nts: record.specification.mode == .nts, cookies: record.specification.mode == .nts ? record.cookies : nil,
                    selected: system.primary == id, falseticker: record.isFalseticker,
                    lastError: record.lastError, pool: record.specification.poolName
                )
            }
            return ObservationSnapshot(
                system: .init(
                    synchronized: system.synchronized, stratum: system.stratum,
                    referenceID: ReferenceID(rawValue: system.referenceID).hex, leap: system.leap.rawValue,
                    offsetSeconds: system.offset, uncertaintySeconds: system.uncertainty,
                    rootDelaySeconds: system.rootDelay, rootDispersionSeconds: system.rootDispersion,
                    frequencyPPM: system.frequencyCorrection * 1e6
                ),
                clock: .init(kind: status.kind.rawValue, offsetFromSystemSeconds: status.offsetFromSystem?.seconds, frequencyPPM: status.frequencyPPM),
                sources: sourceEntries,
                servers: []
            )
        }
    }

    /// What a server running beside this engine should announce.
    public var systemState: SystemState { lock.withLock { discipline.system } }

    /// When the clock was last steered from the sources, on the clock's own time scale (the
    /// reference timestamp a server announces); nil before the first time.
    public var lastClockUpdate: UnixTime? { lock.withLock { lastUpdate } }
}
