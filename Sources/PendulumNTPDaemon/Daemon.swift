#if canImport(Glibc)
import Glibc
#endif
import Logging
import PendulumDaemonConfig
import PendulumDiscipline
import PendulumFiles
import PendulumIO
import PendulumNTPServer
import PendulumNTS
import PendulumNTSKE
import PendulumNTPClient
import PendulumBoundedTime
import PendulumClientEngine
import PendulumSync
import PendulumTime

/// pendulum-ntpd: keeps a clock (system or overlay) right from its `[[source]]`s, serves that
/// clock's time over NTP and NTS, keeps the cookie keyset, shows itself on the observation
/// socket and as Prometheus metrics, and stops cleanly on SIGTERM or SIGINT.
package enum Daemon {
    /// For the few lines written before logging is set up (usage, configuration errors).
    package static func log(_ message: String) {
        LineLogHandler.write("pendulum-ntpd: \(message)")
    }

    /// Sends swift-log's output to standard error, one line per event, at `level` and above.
    /// Call once, after the configuration is read.
    package static func setUpLogging(level: ObservabilitySection.LogLevel) {
        let logLevel = Logger.Level(rawValue: level.rawValue) ?? .info
        LoggingSystem.bootstrap { _ in LineLogHandler(program: "pendulum-ntpd", level: logLevel) }
    }

    /// The write end of the pipe the signal handler reports to. Written once, before the
    /// handler is installed; the handler only reads it (a handler cannot capture context).
    nonisolated(unsafe) static var signalPipeWriteEnd: Int32 = -1

    /// Routes SIGTERM and SIGINT (stop) and SIGHUP (reload) into a pipe that `run` waits on:
    /// the only async-signal-safe way to hear them whichever thread (ours, NIO's or Swift's
    /// pool) the kernel picks. All three are also unblocked: a parent (a test runner, a
    /// careless supervisor) may have started us with them blocked, and a daemon that ignores
    /// SIGTERM cannot be stopped cleanly. Call first thing in main, before any thread starts,
    /// so all inherit the mask.
    package static func installStopSignalHandlers() -> Int32 {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { return -1 }
        signalPipeWriteEnd = ends[1]
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        for handled in [SIGTERM, SIGINT, SIGHUP] {
            sigaddset(&unblocked, handled)
            signal(handled) { number in
                var byte = UInt8(truncatingIfNeeded: number)
                _ = write(Daemon.signalPipeWriteEnd, &byte, 1)
            }
        }
        pthread_sigmask(SIG_UNBLOCK, &unblocked, nil)
        return ends[0]
    }

    /// - Parameter configurationFile: where `configuration` came from, with its bytes as read:
    ///   SIGHUP compares the file with them to say whether it changed.
    package static func run(_ configuration: DaemonConfiguration, stopSignals: Int32, configurationFile: (path: String, bytes: [UInt8])? = nil) async throws(DaemonError) {
        let logger = Logger(label: "pendulum-ntpd")
        for warning in configuration.warnings { logger.warning("\(warning)") }

        let (clock, clockWhy) = try ClockFactory.make(configuration.clock)
        var discipline = disciplineConfiguration(configuration)
        discipline.maximumFrequency = clock.maximumFrequencyCorrection
        let driftStore = configuration.clock.driftFile.map { DriftFileStore(path: $0) }
        try startingFrequency(clock: clock, driftStore: driftStore, logger: logger, into: &discipline)
        discipline.leapSeconds = try leapSeconds(configuration.clock.leapSeconds, now: clock.now(), logger: logger)
        let localLeap = LocalLeapKeeper(table: discipline.leapSeconds, clock: clock, logger: logger)
        let keyset = try configuration.keyset.map { section throws(DaemonError) in try KeysetKeeper.load(section) }
        let localStratum = configuration.synchronization.localStratum
        let initialState = localStratum.map { localLeap.servedState(stratum: $0) } ?? .unsynchronized()
        let state = ServingState(clock: .unsynchronized(), keyset: keyset, servedClock: clock)
        let smearing = configuration.servers.contains { $0.leapSmear != nil }
        let leapTable = discipline.leapSeconds
        publish(initialState, state: state, clock: clock, table: leapTable, smearing: smearing, logger: logger)
        let stop = StopFlag()

        var bounds: BoundsSegment?
        if let path = configuration.observability.boundsPath, !configuration.sources.isEmpty {
            do {
                bounds = try BoundsSegment.create(at: path)
            } catch {
                throw DaemonError.startup("[observability] bounds-path: \(error)")
            }
        }
        let engine = configuration.sources.isEmpty ? nil : SynchronizationEngine(
            clock: clock, sources: configuration.sources.map(Self.specification),
            configuration: discipline,
            logger: logger,
            bounds: bounds,
            certificateTimePolicy: configuration.synchronization.certificateTimeCheck
        )
        let driftKeeper = DriftKeeper(store: driftStore, engine: engine, logger: logger)

        var loops: [UDPServeLoop] = []
        var listeners: [NTSKEServerListener] = []
        var keeper: KeysetKeeper?
        var observation: ObservationServer?
        var metrics: MetricsEndpoint?
        var localLeapThread: DaemonThread?
        func shutDown() async {
            stop.set()
            engine?.stop()
            localLeapThread?.join()
            driftKeeper.save(reason: "at stop")
            for loop in loops { loop.join() }
            keeper?.join()
            observation?.stop()
            metrics?.stop()
            for listener in listeners { try? await listener.close() }
        }
        do throws(DaemonError) {
            for (index, section) in configuration.servers.enumerated() {
                loops.append(try UDPServeLoop(
                    listen: section.listen, configuration: section.coreConfiguration, smear: section.leapSmear, state: state, stop: stop, index: index,
                    workers: section.workers
                ))
            }
            if let section = configuration.keyset {
                keeper = try KeysetKeeper(section: section, state: state, stop: stop, log: { logger.notice("\($0)") })
            }
            let descriptors = DescriptorBudget.raiseAndMeasure()
            let share = DescriptorBudget.perListener(limit: descriptors.limit, inUse: descriptors.inUse, listeners: configuration.ntsKEServers.count)
            for section in configuration.ntsKEServers {
                if share.connections < section.maximumConnections {
                    logger.warning("nts-ke \(section.listen): max-connections lowered from \(section.maximumConnections) to \(share.connections): the descriptor limit is \(descriptors.limit) (ulimit -n) with \(descriptors.inUse) in use")
                }
                listeners.append(try await NTSKEService.start(
                    section, state: state, maximumConnections: min(section.maximumConnections, share.connections), acceptBatch: share.acceptBatch,
                    log: { warning, message in if warning { logger.warning("\(message)") } else { logger.notice("\(message)") } }
                ))
            }
            if engine == nil, let localStratum, discipline.leapSeconds != nil {
                localLeapThread = try DaemonThread.starting(name: "leap keeper") {
                    // Once a second is soon enough: the answer changes twice a day at most.
                    while !stop.isSet {
                        publish(localLeap.tick(stratum: localStratum), state: state, clock: clock, table: leapTable, smearing: smearing, logger: logger)
                        for _ in 0..<10 where !stop.isSet { usleep(100_000) }
                    }
                }
            }
            let listens = loops.map(\.localAddress.description)
            let keyExchanges = zip(listeners, configuration.ntsKEServers).map { listener, section in
                (listen: listener.localAddress.map { "\($0)" } ?? section.listen.description, listener: listener)
            }
            let snapshot: @Sendable () -> ObservationSnapshot = {
                observe(engine: engine, clock: clock, served: state.snapshot.clock, state: state, listens: listens, keyExchanges: keyExchanges)
            }
            if let path = configuration.observability.observationPath {
                do {
                    let server = try ObservationServer(path: path, snapshot: snapshot)
                    observation = server
                    try server.start()
                } catch {
                    throw DaemonError.startup("[observability] observation-path: \(error)")
                }
            }
            if let listen = configuration.observability.metricsListen {
                do {
                    let endpoint = try MetricsEndpoint(host: listen.ipString, port: listen.port, snapshot: snapshot)
                    metrics = endpoint
                    try endpoint.start()
                } catch {
                    throw DaemonError.startup("[observability] \(error)")
                }
            }
        } catch {
            await shutDown()
            throw error
        }
        // What the server announces follows the discipline once a second: root dispersion
        // grows between clock updates, so it cannot only follow measurements.
        do {
            try engine?.start(everySecond: {
                refreshServedState(
                    engine: engine, clock: clock, state: state, localStratum: localStratum, localLeap: localLeap,
                    table: leapTable, smearing: smearing, logger: logger
                )
                driftKeeper.tick()
            })
        } catch {
            await shutDown()
            throw DaemonError.startup("the client: \(error)")
        }

        let what = loops.map { "ntp \($0.localAddress)" } + configuration.ntsKEServers.map { "nts-ke \($0.listen)" }
            + (observation.map { ["observation \($0.path)"] } ?? []) + (metrics.map { ["metrics port \($0.port)"] } ?? [])
        let sourcesText = engine == nil
            ? (clockState(localStratum: localStratum))
            : "\(configuration.sources.count) source\(configuration.sources.count == 1 ? "" : "s") (\(configuration.sources.map { "\($0.mode.rawValue) \($0.host)" }.joined(separator: ", ")))"
        let keyText = keyset.map { ", cookie key id \($0.current.id) with \($0.stale.count) stale" } ?? ""
        logger.notice("ready: \(what.isEmpty ? "client only" : what.joined(separator: ", ")); \(clockWhy); \(sourcesText)\(keyText)")
        SystemdNotifier.notify("READY=1")

        let reloadable = zip(listeners, configuration.ntsKEServers).map { ($0, $1) }
        let reload: @Sendable () -> Void = {
            reloadCertificates(listeners: reloadable, logger: logger)
            if let configurationFile { reportConfigurationChange(configurationFile, logger: logger) }
        }
        let signalNumber = await Self.stopSignal(from: stopSignals, reload: reload)
        logger.notice("signal \(signalNumber): stopping")
        SystemdNotifier.notify("STOPPING=1")
        await shutDown()
        logger.notice("stopped; requests: \(state.counters.summary)")
        for (listener, section) in zip(listeners, configuration.ntsKEServers) {
            let counters = listener.counters
            logger.notice("nts-ke \(section.listen): accepted=\(counters.accepted) answered=\(counters.answered) refused-over-limit=\(counters.refusedOverLimit) shed=\(counters.shed) timed-out=\(counters.timedOut) too-large=\(counters.tooLarge) wrong-alpn=\(counters.wrongALPN) tls-failures=\(counters.tlsFailures) accept-failures=\(counters.acceptFailures)")
        }
    }

    /// Waits for a stop signal's byte on a thread of its own. A blocking read on the main task
    /// would hold a thread of Swift's cooperative pool, and a one-CPU machine's pool has only
    /// one: NTS-KE's tasks then never ran (the first NTS run in a one-CPU VM never completed a
    /// key exchange).
    /// SIGHUP on the way runs `reload` and goes on waiting.
    static func stopSignal(from descriptor: Int32, reload: @escaping @Sendable () -> Void = {}) async -> UInt8 {
        await withCheckedContinuation { continuation in
            let reader: @Sendable () -> Void = {
                var signalNumber: UInt8 = 0
                while true {
                    let count = read(descriptor, &signalNumber, 1)
                    if count < 0 && errno == EINTR { continue }
                    guard count == 1, Int32(signalNumber) == SIGHUP else { break }
                    reload()
                }
                continuation.resume(returning: signalNumber)
            }
            do {
                try DaemonThread.detached(name: "stop signals", reader)
            } catch {
                reader()  // no thread to be had: block here, as before
            }
        }
    }

    /// SIGHUP: every NTS-KE listener re-reads its certificate chain and key (a renewed
    /// certificate), for connections from now on; on a problem it keeps the old ones and says so.
    static func reloadCertificates(listeners: [(NTSKEServerListener, NTSKEServerSection)], logger: Logger) {
        if listeners.isEmpty { logger.notice("SIGHUP: no NTS-KE listener, no certificate to reload") }
        for (listener, section) in listeners {
            do {
                try listener.reloadCertificate(certificateChainPath: section.certificateChainPath, privateKeyPath: section.privateKeyPath)
                logger.notice("SIGHUP: nts-ke \(section.listen): certificate \(section.certificateChainPath) and key \(section.privateKeyPath) reloaded for new connections")
            } catch {
                logger.error("SIGHUP: nts-ke \(section.listen): kept the certificate in use: \(section.certificateChainPath) / \(section.privateKeyPath): \(error)")
            }
        }
    }

    /// SIGHUP applies nothing else yet: say so when the file has changed since the start.
    static func reportConfigurationChange(_ file: (path: String, bytes: [UInt8]), logger: Logger) {
        guard let now = try? RegularFile.read(path: file.path, limit: DaemonConfigurationParser.maximumFileBytes) else {
            logger.warning("SIGHUP: cannot read \(file.path); the configuration in use stays")
            return
        }
        guard now != file.bytes else { return }
        logger.warning("SIGHUP: \(file.path) has changed since the start; only certificate files are reloaded on SIGHUP: restart pendulum-ntpd to apply the rest")
    }

    /// Where the frequency starts: the drift file when there is a valid one, else (for the
    /// system clock) what the kernel runs at now, which an earlier daemon left close to right.
    /// Anything an earlier daemon left running in the kernel (its PLL) is switched off first.
    /// That first clock_adjtime also proves the clock can be steered: refused, the daemon stops
    /// here rather than run claiming steps the kernel never made.
    static func startingFrequency(clock: any SteerableClock, driftStore: DriftFileStore?, logger: Logger, into discipline: inout DisciplineConfiguration) throws(DaemonError) {
        var kernelFrequency: Double?
        if let kernel = clock as? KernelClock {
            do {
                let released = try kernel.releaseKernelDiscipline()
                if let found = released.found { logger.notice("\(found)") }
                kernelFrequency = released.frequency
            } catch where error.isPermissionDenied {
                // The system clock is chosen only with CAP_SYS_TIME in hand, so what refuses is
                // a filter around the process, typically a systemd unit's SystemCallFilter.
                throw DaemonError.startup("cannot steer the system clock: \(error.operation) was refused although this process has CAP_SYS_TIME; "
                    + "a seccomp filter or security module forbids it (a systemd unit needs SystemCallFilter=@clock and no ~@privileged); "
                    + "allow clock_adjtime or use [clock] kind = \"overlay\"")
            } catch {
                logger.error("cannot take over the kernel clock's discipline: \(error)")
            }
        }
        var record: DriftRecord?
        if let driftStore {
            do {
                record = try driftStore.load()
            } catch {
                logger.warning("\(error)")
            }
        }
        if let record {
            discipline.initialFrequency = record.frequency
            // A recorded frequency is trusted to what the file says, but never closer than 1 ppm:
            // temperature moves a crystal that much between runs.
            discipline.filter.initialFrequencyUncertainty = max(record.uncertainty, 1e-6)
            logger.notice("frequency \(record.frequency * 1e6) ppm from the drift file \(driftStore?.path ?? "")")
        } else if let kernelFrequency, kernelFrequency != 0 {
            discipline.initialFrequency = kernelFrequency
            logger.notice("frequency \(kernelFrequency * 1e6) ppm kept from the kernel (no drift file)")
        }
    }

    private static func clockState(localStratum: UInt8?) -> String {
        localStratum.map { "no sources: serving the clock as local at stratum \($0)" } ?? "no sources and no local-stratum: serving as unsynchronised"
    }

    static func specification(_ section: SourceSection) -> SourceSpecification {
        switch section.mode {
        case .server:
            SourceSpecification(host: section.host, port: section.port ?? 123, mode: .server, polling: section.polling)
        case .pool:
            SourceSpecification(host: section.host, port: section.port ?? 123, mode: .pool, poolCount: section.count, polling: section.polling)
        case .nts:
            SourceSpecification(
                host: section.host, port: section.port ?? 123, mode: .nts, keyExchangePort: section.keyExchangePort, caFile: section.caFile,
                polling: section.polling)
        }
    }

    static func disciplineConfiguration(_ configuration: DaemonConfiguration) -> DisciplineConfiguration {
        var discipline = DisciplineConfiguration()
        let section = configuration.synchronization
        discipline.minimumAgreeingSources = configuration.effectiveMinimumAgreeingSources
        if let value = section.stepThresholdSeconds { discipline.stepThreshold = value }
        if let value = section.panicThresholdSeconds { discipline.panicThreshold = value }
        if let value = section.startupStepThresholdSeconds { discipline.startupStepThreshold = value }
        if let value = section.startupPanicThresholdSeconds { discipline.startupPanicThreshold = value }
        return discipline
    }

    /// Brings what the server announces in line with the discipline.
    static func refreshServedState(
        engine: SynchronizationEngine?, clock: any SteerableClock, state: ServingState, localStratum: UInt8?, localLeap: LocalLeapKeeper,
        table: LeapSecondTable?, smearing: Bool, logger: Logger
    ) {
        guard let engine else { return }
        let system = engine.systemState
        let served = !system.synchronized && localStratum != nil
            ? localLeap.servedState(stratum: localStratum ?? 1)
            : ServedClockState.make(system: system, lastUpdate: engine.lastClockUpdate, now: clock.now(), localStratum: localStratum)
        publish(served, state: state, clock: clock, table: table, smearing: smearing, logger: logger)
    }

    /// Hands the serving workers what they announce, and says when a leap smear is scheduled,
    /// withdrawn or over.
    static func publish(_ served: ServerClockState, state: ServingState, clock: any SteerableClock, table: LeapSecondTable?, smearing: Bool, logger: Logger) {
        let now = clock.now()
        guard let change = state.update(clock: served, at: now, recentLeap: recentLeap(in: table, at: now)), smearing else { return }
        switch change {
        case .scheduled(let leap):
            logger.notice("leap smear: the leap second at \(UnixTime(seconds: leap.midnight)) (\(leap.isInsertion ? "inserted" : "deleted")) is served spread around it on the leap-smear listeners")
        case .withdrawn(let leap):
            logger.warning("leap smear: the leap second at \(UnixTime(seconds: leap.midnight)) was withdrawn: the leap-smear listeners serve UTC again")
        case .finished(let leap):
            logger.notice("leap smear: the smear of the leap second at \(UnixTime(seconds: leap.midnight)) is over")
        }
    }

    /// A leap second the published list says happened in the last half day: a daemon started
    /// then is still in the second half of its smear.
    static func recentLeap(in table: LeapSecondTable?, at now: UnixTime) -> ScheduledLeap? {
        guard let table, !table.isExpired(at: now.seconds), let index = table.entries.lastIndex(where: { $0.start <= now.seconds }), index > 0,
            now.seconds - table.entries[index].start < LeapSmearSchedule.keptAfterMidnight
        else { return nil }
        return ScheduledLeap(midnight: table.entries[index].start, isInsertion: table.entries[index].taiOffset > table.entries[index - 1].taiOffset)
    }

    /// The published leap seconds: `[clock] leap-seconds-file`, or tzdata's list when it is
    /// there. A configured file must be valid; tzdata's may be missing or damaged (then the
    /// sources decide, as they do once a list has expired).
    static func leapSeconds(_ setting: ClockSection.LeapSeconds, now: UnixTime, logger: Logger) throws(DaemonError) -> LeapSecondTable? {
        let table: LeapSecondTable
        switch setting {
        case .none:
            return nil
        case .file(let path):
            do {
                table = try LeapSecondsFile.load(path: path)
            } catch {
                throw DaemonError.startup("[clock] leap-seconds-file: \(error)")
            }
        case .tzdata:
            do {
                table = try LeapSecondsFile.load(path: LeapSecondsFile.tzdataPath)
            } catch {
                if !error.isMissing { logger.warning("leap seconds: \(error); the sources' announcements decide") }
                return nil
            }
        }
        let expiry = CivilDate(unixSeconds: table.expiry).map(\.description) ?? "\(table.expiry)"
        if table.isExpired(at: now.seconds) {
            logger.warning("leap seconds: the list expired on \(expiry): update tzdata; until then the sources' announcements decide")
        } else {
            logger.info("leap seconds: list valid until \(expiry), TAI − UTC \(table.taiOffset(at: now.seconds).map { "\($0)" } ?? "unknown") s")
        }
        return table
    }

    /// The status document: the engine's view when there are sources, else what is served.
    static func observe(
        engine: SynchronizationEngine?, clock: any SteerableClock, served: ServerClockState, state: ServingState, listens: [String],
        keyExchanges: [(listen: String, listener: NTSKEServerListener)]
    ) -> ObservationSnapshot {
        var snapshot: ObservationSnapshot
        if let engine {
            snapshot = engine.snapshot()
        } else {
            snapshot = .serverOnly(
                synchronized: served.isSynchronized, stratum: served.stratum, referenceID: served.referenceID.rawValue,
                leap: served.leap.rawValue, clock: clock.status
            )
        }
        snapshot.servers = listens.enumerated().map { index, listen in
            ObservationSnapshot.Server(listen: listen, counters: state.counters(forLoop: index).observationCounters)
        }
        if !keyExchanges.isEmpty {
            snapshot.keyExchangeServers = keyExchanges.map { .init(listen: $0.listen, counters: $0.listener.counters.byClass) }
        }
        return snapshot
    }
}
