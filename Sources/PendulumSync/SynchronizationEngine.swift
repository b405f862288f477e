import Foundation
import PendulumDiscipline
import PendulumIO
import PendulumTime

/// The client half of the daemon: polls every source on its own thread, feeds the discipline
/// and applies its decisions to the clock. The discipline core decides; this only does I/O,
/// timing and bookkeeping for status.
public final class SynchronizationEngine: @unchecked Sendable {
    public let clock: any SteerableClock
    private let lock = NSLock()
    private var discipline: ClockDiscipline
    private var sources: [SourceRecord] = []
    private var threads: [Thread] = []
    private let stopCondition = NSCondition()
    private var stopping = false
    private let log: @Sendable (String) -> Void

    /// What status shows per source; guarded by `lock`.
    struct SourceRecord {
        var specification: SourceSpecification
        var address: String?
        var reach: UInt8 = 0
        var lastMeasurement: DisciplineMeasurement?
        var cookies = 0
        var lastError: String?
        var isFalseticker = false
        var demobilized = false
    }

    public init(
        clock: any SteerableClock, sources specifications: [SourceSpecification],
        configuration: DisciplineConfiguration = DisciplineConfiguration(),
        log: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.clock = clock
        self.log = log
        discipline = ClockDiscipline(configuration: configuration)
        sources = specifications.map { SourceRecord(specification: $0) }
    }

    /// Starts one polling thread per source.
    public func start() {
        for index in sources.indices {
            let specification = sources[index].specification
            let firstPoll = lock.withLock { discipline.addSource(SourceID(index)) }
            // The poller lives and dies on its source's thread.
            let thread = Thread { [self] in
                self.run(index: index, poller: SourcePoller(specification: specification, clock: clock), firstPoll: firstPoll)
            }
            thread.name = "source \(sources[index].specification.displayAddress)"
            threads.append(thread)
            thread.start()
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
        while threads.contains(where: { $0.isExecuting }) && Date() < deadline { usleep(10_000) }
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

    private func run(index: Int, poller: SourcePoller, firstPoll: NTPDuration) {
        let id = SourceID(index)
        var interval = firstPoll
        var backoff = 0
        while wait(interval) {
            lock.withLock { discipline.pollSent(to: id) }
            // Replies later than this are not worth waiting for; a poll interval is at least 1 s
            // at startup and 16 s after it.
            let result = poller.poll(timeout: .seconds(1))
            let address = poller.resolvedAddress?.description
            switch result {
            case .measurement(let measurement, _):
                backoff = 0
                interval = lock.withLock {
                    let update = discipline.handle(measurement, from: id)
                    apply(update)
                    sources[index].reach = sources[index].reach << 1 | 1
                    sources[index].lastMeasurement = measurement
                    sources[index].lastError = nil
                    sources[index].address = address
                    sources[index].cookies = poller.cookiesHeld
                    return update.nextPollInterval
                }
            case .noReply, .failed, .ntsNAK, .kissOfDeath:
                let description = describe(result)
                let demobilize: Bool
                if case .kissOfDeath(let code) = result, poller.specification.mode == .nts, ["DENY", "RSTR"].contains(code) {
                    demobilize = true  // authenticated by NTS: the server really means it
                } else {
                    demobilize = false
                }
                if case .kissOfDeath = result { backoff += 1 }
                interval = lock.withLock {
                    sources[index].reach <<= 1
                    sources[index].lastError = description
                    sources[index].address = address
                    sources[index].cookies = poller.cookiesHeld
                    sources[index].demobilized = demobilize
                    return discipline.nextPollInterval(for: id)
                }
                // RATE and friends: back off exponentially, up to 2^10 s more.
                if backoff > 0 { interval = interval + NTPDuration(seconds: Int64(1) << Int64(min(backoff, 10))) }
                if demobilize {
                    log("source \(poller.specification.displayAddress) demobilised: kiss-o'-death \(description)")
                    return
                }
                if case .ntsNAK = result { log("source \(poller.specification.displayAddress): NTS NAK, re-keying") }
            }
        }
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
        for action in update.actions {
            do {
                switch action {
                case .step(let amount):
                    try clock.step(by: amount)
                    log("clock stepped by \(amount) s")
                case .setFrequency(let correction):
                    try clock.setFrequency(correction)
                case .setLeap(let leap):
                    let announcement: LeapAnnouncement = leap == .insertSecond ? .insertSecond : (leap == .deleteSecond ? .deleteSecond : .none)
                    try clock.setLeap(announcement)
                    if announcement != .none { log("leap second announced: \(announcement)") }
                }
            } catch {
                log("clock refused \(action): \(error)")
            }
        }
        for event in update.events {
            switch event {
            case .falsetickers(let ids):
                for index in sources.indices { sources[index].isFalseticker = ids.contains(SourceID(index)) }
                if !ids.isEmpty { log("falsetickers: \(ids.map { sources[$0.rawValue].specification.displayAddress })") }
            case .synchronized:
                log("synchronised")
            case .lostSynchronization:
                log("lost synchronisation")
            case .panicThresholdExceeded(let offset):
                log("offset \(offset) s exceeds the panic threshold: not steering")
            case .clockMeddlingDetected(let amount):
                log("clock was moved by \(amount) s outside this daemon")
            default:
                break
            }
        }
        let system = discipline.system
        try? clock.setSynchronized(
            system.synchronized,
            maximumError: NTPDuration(approximateSeconds: system.rootDelay / 2 + system.rootDispersion + system.uncertainty),
            estimatedError: NTPDuration(approximateSeconds: system.uncertainty)
        )
    }

    /// A consistent picture of the engine for status, metrics and serving.
    public func snapshot() -> ObservationSnapshot {
        let status = clock.status
        return lock.withLock {
            let system = discipline.system
            let now = NTPTimestamp(clock.now())
            let sourceEntries = sources.enumerated().map { index, record -> ObservationSnapshot.Source in
                let estimate = discipline.estimate(for: SourceID(index), at: now)
                return ObservationSnapshot.Source(
                    name: record.specification.displayAddress, address: record.address,
                    mode: record.specification.mode.rawValue, reachable: record.reach != 0, reach: record.reach,
                    offsetSeconds: estimate?.offset ?? record.lastMeasurement.map { $0.offset.seconds },
                    delaySeconds: record.lastMeasurement?.delay.seconds,
                    uncertaintySeconds: estimate?.uncertainty,
                    poll: discipline.pollLog2(for: SourceID(index)),
                    stratum: record.lastMeasurement?.stratum,
                    nts: record.specification.mode == .nts, cookies: record.specification.mode == .nts ? record.cookies : nil,
                    selected: system.primary == SourceID(index), falseticker: record.isFalseticker,
                    lastError: record.lastError
                )
            }
            return ObservationSnapshot(
                system: .init(
                    synchronized: system.synchronized, stratum: system.stratum,
                    referenceID: String(system.referenceID, radix: 16, uppercase: true), leap: system.leap.rawValue,
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
}
