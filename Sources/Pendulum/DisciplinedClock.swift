import Logging
import PendulumClientEngine
import PendulumDiscipline
import PendulumIO
import PendulumNTPClient
import PendulumTime

/// Time kept by this program alone, disciplined by NTS servers, without privileges and without
/// touching the system clock:
///
/// ```swift
/// let clock = try DisciplinedClock(servers: [.nts("time.cloudflare.com"), .nts("nts.netnod.se"), .nts("ptbtime1.ptb.de")])
/// let reading = try await clock.waitUntilSynchronized(timeout: .seconds(30))
/// print(reading.time, "±", reading.errorBound ?? .zero)
/// ```
///
/// It runs pendulum-ntpd's client (the same polling, NTS, falseticker rejection, filter and
/// discipline) on a thread of its own, steering an overlay clock: a software clock on top of
/// CLOCK_REALTIME. Someone setting the system clock moves it only until the next agreeing
/// answers: the engine sees the move against CLOCK_BOOTTIME and steers it back. `stop()` ends
/// the thread; so does releasing the last reference.
public final class DisciplinedClock: Sendable {
    private let overlay: OverlayClock
    private let engine: SynchronizationEngine
    private let servers: [SourceSpecification: TimeServer]

    /// Starts following `servers` at once. Throws only for what can be known at once (no
    /// servers, bad options, no thread); unreachable servers show in `sources`.
    public convenience init(servers: [TimeServer], options: DisciplinedClockOptions = DisciplinedClockOptions(), logger: Logger? = nil) throws(DisciplinedClockError) {
        try self.init(servers: servers, options: options, logger: logger, initialOffset: .zero)
    }

    /// `initialOffset`: where the clock starts against the system clock. Tests start it wrong
    /// to see it steered; a program has no better start than the system clock.
    init(servers: [TimeServer], options: DisciplinedClockOptions, logger: Logger?, initialOffset: NTPDuration) throws(DisciplinedClockError) {
        guard !servers.isEmpty else { throw .noServers }
        if let problem = options.problem { throw .invalidOptions(problem) }
        let polling = PollSettings(limits: options.pollLog2, initialBurst: options.initialBurst)
        var specifications: [SourceSpecification] = []
        var byServer: [SourceSpecification: TimeServer] = [:]
        for server in servers {
            let specification: SourceSpecification
            switch server.security {
            case .nts(let keyExchangePort, let caFile):
                guard server.port == nil else {
                    throw .invalidOptions("\(server): an NTS server's NTP port is the one its key exchange names")
                }
                specification = SourceSpecification(host: server.host, mode: .nts, keyExchangePort: keyExchangePort, caFile: caFile, polling: polling)
            case .unauthenticated:
                specification = SourceSpecification(host: server.host, port: server.port ?? 123, mode: .server, polling: polling)
            }
            guard byServer[specification] == nil else { throw .invalidOptions("\(server) is listed twice") }
            byServer[specification] = server
            specifications.append(specification)
        }
        var configuration = DisciplineConfiguration()
        configuration.pollLimits = options.pollLog2
        configuration.minimumAgreeingSources = options.minimumAgreeing
        overlay = OverlayClock(initialOffset: initialOffset)
        engine = SynchronizationEngine(
            clock: overlay, sources: specifications, configuration: configuration,
            logger: logger ?? Logger(label: "pendulum.clock", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        self.servers = byServer
        do {
            try engine.start()
        } catch {
            throw .cannotStart("\(error)")
        }
    }

    deinit {
        engine.stop()
    }

    /// The disciplined time now, with its bound.
    public func now() -> DisciplinedTime {
        let system = WallClock.now()
        let time = overlay.time(atSystemTime: system)
        let bound = engine.errorBound(at: time)
        return DisciplinedTime(
            time: time,
            errorBound: bound.flatMap { $0.maximumError.isFinite ? NTPDuration(approximateSeconds: $0.maximumError) : nil },
            synchronized: !engine.isStopped && bound?.synchronized == true,
            offsetFromSystemClock: time - system
        )
    }

    /// Returns the first reading made while synchronised: at once if it is, else as soon as
    /// agreeing servers have set the clock. Cancelling the task ends the wait.
    public func waitUntilSynchronized(timeout: Duration = .seconds(60)) async throws(DisciplinedClockError) -> DisciplinedTime {
        let deadline = MonotonicClock.now() + timeout
        while true {
            if engine.isStopped { throw .stopped }
            let reading = now()
            if reading.synchronized && reading.errorBound != nil { return reading }
            if MonotonicClock.now() >= deadline { throw .notSynchronized(after: timeout, sources: sources) }
            do {
                try await Task.sleep(for: .milliseconds(50))
            } catch {
                throw .cancelled
            }
        }
    }

    /// Every server as the engine sees it now: the evidence behind `now()`.
    public var sources: [DisciplinedSourceStatus] {
        engine.statuses().sources.compactMap { status in
            guard let server = servers[status.specification] else { return nil }
            return DisciplinedSourceStatus(
                server: server, address: status.address?.description, reachable: status.reach != 0,
                offsetSeconds: status.offsetSeconds, delaySeconds: status.delaySeconds,
                uncertaintySeconds: status.uncertaintySeconds, pollLog2: status.pollLog2,
                primary: status.selected, falseticker: status.falseticker, lastError: status.lastError
            )
        }
    }

    /// Stops following the servers; `now()` then runs on at the last frequency, unsynchronised
    /// as far as this clock knows, with a bound that keeps growing.
    public func stop() {
        engine.stop()
    }
}
