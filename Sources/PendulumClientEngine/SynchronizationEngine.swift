import Glibc
import NIOConcurrencyHelpers
import Logging
import PendulumBoundedTime
import PendulumDiscipline
import PendulumIO
import PendulumNTP
import PendulumNTPClient
import PendulumNTS
import PendulumNTSKE
import PendulumTime

/// The client half of the daemon: a thin I/O shell around `NTPClientCore`. One thread runs one
/// event loop for every source: it polls the sources' sockets and a wake-up pipe, fires the
/// core's timers and carries out its actions. Name lookups and NTS-KE run elsewhere (they
/// block or are asynchronous) and post their results back into the loop.
package final class SynchronizationEngine: @unchecked Sendable {
    package let clock: any SteerableClock
    private let logger: Logger
    /// How pool and server names become addresses; tests give a fixed list.
    private let resolve: @Sendable (String, UInt16) throws -> [SocketAddress]

    /// Guards `core`, `inbox`, `lastUpdate` and `stopping`: status readers and the loop share them.
    private let lock = NIOLock()
    private var core: NTPClientCore
    /// Results from lookups and key exchanges, applied by the loop in arrival order.
    private var inbox: [@Sendable (inout NTPClientCore, NTPTimestamp) -> [ClientAction]] = []
    private var lastUpdate: UnixTime?
    private var stopping = false
    private var running = false
    private let wakeReadEnd: Int32
    private let wakeWriteEnd: Int32

    // Owned by the loop thread alone.
    private var sockets: [SourceID: TimestampedUDPSocket] = [:]
    private var timers: [ClientTimer: Duration] = [:]
    private var everySecond: @Sendable () -> Void = {}
    private var clockWatch: LocalClockWatch
    /// Where the clock's error bound is published for other programs; nil: nowhere.
    private let bounds: BoundsPublisher?

    package init(
        clock: any SteerableClock, sources specifications: [SourceSpecification],
        configuration: DisciplineConfiguration = DisciplineConfiguration(),
        logger: Logger = Logger(label: "pendulum.sync"),
        bounds: BoundsSegment? = nil,
        certificateTimePolicy: CertificateTimePolicy = .afterAgreement,
        resolve: @escaping @Sendable (String, UInt16) throws -> [SocketAddress] = { host, port in try NameResolver.resolve(host, port: port) }
    ) {
        self.clock = clock
        self.logger = logger
        self.bounds = bounds.map { BoundsPublisher(segment: $0, clock: clock) }
        self.resolve = resolve
        core = NTPClientCore(sources: specifications, configuration: configuration, certificateTimePolicy: certificateTimePolicy)
        // The kernel's frequency and tick corrections move CLOCK_REALTIME and CLOCK_BOOTTIME
        // alike, so against boottime the system clock has no rate of its own: any move beyond
        // the reading tolerance was a step. An overlay clock or a PHC runs at its own rate.
        clockWatch = LocalClockWatch(maximumRate: clock.kind == .system ? 0 : clock.maximumFrequencyCorrection)
        var ends: [Int32] = [-1, -1]
        if pipe(&ends) == 0 {
            for end in ends {
                _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
                _ = fcntl(end, F_SETFD, FD_CLOEXEC)
            }
        } else {
            ends = [-1, -1]
        }
        wakeReadEnd = ends[0]
        wakeWriteEnd = ends[1]
    }

    deinit {
        close(wakeReadEnd)
        close(wakeWriteEnd)
    }

    /// Starts the event loop. `everySecond` runs on the loop about once a second (the daemon
    /// refreshes what its server announces there).
    package func start(everySecond: @escaping @Sendable () -> Void = {}) throws {
        self.everySecond = everySecond
        lock.withLock { running = true }
        do {
            try DaemonThread.detached(name: "ntp client") { [self] in
                runLoop()
                lock.withLock { running = false }
            }
        } catch {
            lock.withLock { running = false }
            throw error
        }
    }

    /// `stop()` was called.
    package var isStopped: Bool { lock.withLock { stopping } }

    /// Stops the loop; returns once it has ended (at most one loop turn later).
    package func stop() {
        lock.withLock { stopping = true }
        wake()
        let deadline = MonotonicClock.now() + .seconds(5)
        while lock.withLock({ running }) && MonotonicClock.now() < deadline { usleep(5_000) }
    }

    private func wake() {
        var byte: UInt8 = 1
        _ = write(wakeWriteEnd, &byte, 1)
    }

    /// Hands an event to the loop from another thread.
    private func post(_ event: @escaping @Sendable (inout NTPClientCore, NTPTimestamp) -> [ClientAction]) {
        lock.withLock { inbox.append(event) }
        wake()
    }

    /// Runs one event through the core, then carries out what it asks (which may feed more
    /// events, such as the transmit time of a request just sent).
    private func deliver(_ event: (inout NTPClientCore, NTPTimestamp) -> [ClientAction]) {
        let now = NTPTimestamp(clock.now())
        var pending = lock.withLock { event(&core, now) }
        var next = 0
        while next < pending.count {
            let action = pending[next]
            next += 1
            pending += perform(action)
        }
    }

    // MARK: The loop

    private func runLoop() {
        deliver { core, _ in core.start() }
        watchForMoves()
        var lastTick = MonotonicClock.now()
        while !lock.withLock({ stopping }) {
            let events = lock.withLock {
                defer { inbox.removeAll() }
                return inbox
            }
            for event in events { deliver(event) }
            fireDueTimers()
            let now = MonotonicClock.now()
            if now - lastTick >= .seconds(1) {
                lastTick = now
                watchForMoves()
                publishBounds()
                everySecond()
            }
            // Sleep until the next timer, a datagram or a wake-up; at least once a second for
            // `everySecond`.
            var wait = lastTick + .seconds(1) - now
            if let soonest = timers.values.min() { wait = min(wait, soonest - now) }
            waitForInput(timeout: max(.zero, wait))
        }
        sockets.removeAll()
        // Stopped: a reader must not go on trusting the last values until they go stale.
        bounds?.publishStopped()
    }

    /// Publishes the error bound as of now: after every selection and clock action, and once
    /// a second so that readers can tell a running daemon from a stopped one.
    private func publishBounds() {
        bounds?.publish { reading in lock.withLock { core.errorBound(at: NTPTimestamp(reading)) } }
    }

    /// Once a second and before every answer: has someone else moved the clock since the last
    /// look?
    private func watchForMoves() {
        let boottime = BootClock.nanoseconds()
        let reading = NTPTimestamp(clock.now())
        guard let moved = clockWatch.observe(clock: reading, boottimeNanoseconds: boottime) else { return }
        deliver { core, now in core.localClockMoved(by: NTPDuration(approximateSeconds: moved), at: now) }
    }

    private func fireDueTimers() {
        while true {
            let now = MonotonicClock.now()
            guard let (timer, _) = timers.filter({ $0.value <= now }).min(by: { $0.value < $1.value }) else { return }
            timers[timer] = nil
            deliver { core, time in core.timerFired(timer, at: time) }
        }
    }

    private func waitForInput(timeout: Duration) {
        let ids = Array(sockets.keys)
        var descriptors = [pollfd(fd: wakeReadEnd, events: Int16(POLLIN), revents: 0)]
        descriptors += ids.compactMap { id in sockets[id].map { pollfd(fd: $0.fileDescriptor, events: Int16(POLLIN), revents: 0) } }
        let (seconds, attoseconds) = timeout.components
        let milliseconds = Int32(clamping: seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
        let ready = poll(&descriptors, nfds_t(descriptors.count), milliseconds)
        guard ready > 0 else { return }
        if descriptors[0].revents != 0 {
            var buffer = [UInt8](repeating: 0, count: 64)
            while read(wakeReadEnd, &buffer, buffer.count) > 0 {}
        }
        for (index, id) in ids.enumerated() where descriptors[index + 1].revents != 0 {
            readDatagrams(from: id)
        }
    }

    private func readDatagrams(from id: SourceID) {
        // Each datagram may end the exchange and so replace or drop the socket.
        while let socket = sockets[id] {
            do {
                guard let datagram = try socket.receiveWaiting() else { return }
                // A move of the clock must reach the core before any answer timed after it, or
                // that answer would look like all the sources jumping.
                watchForMoves()
                // Kernel timestamps are on the system clock; the core needs the steered clock's.
                let arrival = NTPTimestamp(clock.time(atSystemTime: datagram.timestamp.time))
                deliver { core, _ in core.received(datagram.bytes, from: id, at: arrival) }
                if sockets[id] !== socket { return }
            } catch {
                sockets[id] = nil
                deliver { core, now in core.exchangeFailed(id, reason: error.description, at: now) }
                return
            }
        }
    }

    // MARK: Actions

    struct LookupFailure: Error, CustomStringConvertible {
        let description: String
    }

    /// Resolves a name on a thread of its own: getaddrinfo blocks, and lookups are rare (start,
    /// an unreachable source, a pool to refill), so a thread each costs less than a pool.
    private func lookUp(_ host: String, _ port: UInt16, then deliver: @escaping @Sendable (Result<[ResolvedAddress], LookupFailure>) -> Void) {
        let resolve = resolve
        do {
            try DaemonThread.detached(name: "name lookup") {
                do {
                    deliver(.success(try resolve(host, port).compactMap(Self.resolvedAddress)))
                } catch {
                    deliver(.failure(LookupFailure(description: "\(error)")))
                }
            }
        } catch {
            deliver(.failure(LookupFailure(description: "\(error)")))
        }
    }

    /// Carries out one action; returns the core's reaction to its immediate result.
    private func perform(_ action: ClientAction) -> [ClientAction] {
        switch action {
        case .send(let bytes, let id, let address):
            return send(bytes, to: id, address: address)
        case .setTimer(let timer, let delay):
            timers[timer] = MonotonicClock.now() + delay.swiftDuration
        case .cancelTimer(let timer):
            timers[timer] = nil
        case .resolve(let id, let host, let port):
            lookUp(host, port) { [self] result in
                switch result {
                case .success(let addresses): post { core, now in core.resolved(id, addresses: addresses, at: now) }
                case .failure(let reason): post { core, now in core.resolutionFailed(id, reason: reason.description, at: now) }
                }
            }
        case .resolvePool(let index, let host, let port):
            lookUp(host, port) { [self] result in
                switch result {
                case .success(let addresses): post { core, _ in core.poolResolved(index, addresses: addresses) }
                case .failure(let reason): post { core, _ in core.poolResolutionFailed(index, reason: reason.description) }
                }
            }
        case .runKeyExchange(let id, let host, let port, let caFile, let certificateTime):
            Task.detached { [self] in
                do {
                    let session = try await NTSKEClient.establish(host: host, port: Int(port), caFile: caFile, certificateTime: certificateTime)
                    let association = try session.makeAssociation()
                    post { core, now in
                        core.keyExchangeCompleted(
                            id, association: association, ntpHost: session.ntpHost, ntpPort: session.ntpPort,
                            certificateValidity: session.certificateValidity, at: now)
                    }
                } catch {
                    let reason = (error as? NTSKEClientFailure)?.description ?? "NTS: \(error)"
                    post { core, now in core.keyExchangeFailed(id, reason: reason, at: now) }
                }
            }
        case .forget(let id):
            sockets[id] = nil
        case .steer(let clockAction):
            steer(clockAction)
            // An overlay clock's rate or offset to CLOCK_REALTIME just changed: readers compute
            // its reading from the published ones.
            publishBounds()
        case .setSynchronized(let synchronized, let maximumError, let estimatedError):
            try? clock.setSynchronized(synchronized, maximumError: maximumError, estimatedError: estimatedError)
            publishBounds()
        case .observed:
            break  // logged through `.log` already
        case .log(let level, let message):
            logger.log(level: Self.logLevel(level), "\(message)")
        }
        return []
    }

    private func send(_ bytes: [UInt8], to id: SourceID, address: ResolvedAddress) -> [ClientAction] {
        guard let destination = SocketAddress(ip: address.host, port: address.port) else {
            return lock.withLock { core.exchangeFailed(id, reason: "bad address \(address)", at: NTPTimestamp(clock.now())) }
        }
        do {
            // A fresh socket per request: a fresh random source port.
            let socket = try TimestampedUDPSocket(family: destination.family)
            try socket.connect(to: destination)
            sockets[id] = socket
            let sent = try socket.send(bytes)
            let t1 = NTPTimestamp(clock.time(atSystemTime: sent.time))
            lock.withLock { core.transmitted(id, at: t1) }
            return []
        } catch {
            sockets[id] = nil
            return lock.withLock { core.exchangeFailed(id, reason: error.description, at: NTPTimestamp(clock.now())) }
        }
    }

    private func steer(_ action: ClockAction) {
        do {
            switch action {
            case .step(let amount):
                try clock.step(by: amount)
                clockWatch.stepped(by: amount.seconds)
            case .setFrequency(let correction):
                try clock.setFrequency(correction)
                let now = clock.now()
                lock.withLock { lastUpdate = now }
            case .setLeap(let leap):
                try clock.setLeap(leap)
            case .setTAIOffset(let offset):
                try clock.setTAIOffset(offset)
            }
        } catch {
            logger.error("clock refused \(action): \(error)")
        }
    }

    static func resolvedAddress(_ address: SocketAddress) -> ResolvedAddress? {
        ResolvedAddress(bytes: address.addressBytes, port: address.port, host: address.ipString)
    }

    static func logLevel(_ level: ClientLogLevel) -> Logger.Level {
        switch level {
        case .debug: .debug
        case .info: .info
        case .notice: .notice
        case .warning: .warning
        case .error: .error
        }
    }

    // MARK: Observation

    /// The system's state and every source's, as of now on the steered clock: for status,
    /// metrics and a library's evidence.
    package func statuses() -> (system: SystemState, sources: [ClientSourceStatus]) {
        let now = NTPTimestamp(clock.now())
        return lock.withLock { (core.system, core.sourceStatuses(at: now)) }
    }

    /// How far the steered clock may be from true time at `time` (a reading of the steered
    /// clock); nil before the first synchronisation.
    package func errorBound(at time: UnixTime) -> ClockErrorBound? {
        lock.withLock { core.errorBound(at: NTPTimestamp(time)) }
    }

    /// What a server running beside this engine should announce.
    package var systemState: SystemState { lock.withLock { core.system } }

    /// The frequency a drift file should keep; nil while not synchronised.
    package var frequencyEstimate: DriftRecord? { lock.withLock { core.frequencyEstimate } }

    /// When the clock was last steered from the sources, on the clock's own time scale (the
    /// reference timestamp a server announces); nil before the first time.
    package var lastClockUpdate: UnixTime? { lock.withLock { lastUpdate } }
}
