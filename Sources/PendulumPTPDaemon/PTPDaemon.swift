import CPendulumShim
import Foundation
import Glibc
import PendulumBoundedTime
import PendulumClientEngine
import PendulumDiscipline
import PendulumIO
import PendulumPTP
import PendulumSync
import PendulumTime

/// pendulum-ptpd's shell: one poll loop that feeds received messages, transmit timestamps and
/// expired timers into `PTPInstance`, performs the actions it returns on the sockets and the
/// clock, runs the servo on its offset samples, and reports status. Single-threaded; SIGTERM
/// and SIGINT arrive through a signalfd and end the loop cleanly.
package final class PTPDaemon {
    private struct TimerKey: Hashable {
        var port: UInt16
        var timer: PTPTimer
    }

    private let configuration: PTPDaemonConfiguration
    private var instance: PTPInstance
    private let sockets: [UInt16: PTPPortSockets]
    private let clock: any SteerableClock
    private var servo: PTPServo
    private let timestampMapping: PTPTimestampMapping
    private var timers: [TimerKey: PTPInstant] = [:]
    private var summary = OffsetSummary()
    private var lastOffset: Double?
    private var lastDelay: Double?
    private var offsetSamples = 0
    private var missingTransmitTimestamps = 0
    private var sendErrors = 0
    private let signalDescriptor: Int32
    private let log: (String) -> Void
    /// What the observation socket and the metrics endpoint serve, from their own threads.
    private let published = PublishedSnapshot()
    private var observationServer: ObservationServer?
    private var metricsEndpoint: MetricsEndpoint?
    /// Where the clock's error bound is published for other programs; nil: nowhere.
    private var bounds: BoundsPublisher?

    package init(configuration: PTPDaemonConfiguration, log: @escaping (String) -> Void) throws {
        self.configuration = configuration
        self.log = log
        let plan = try TimestampingPlan(configuration: configuration) { interface in
            let reported = PTPPortSockets.hardwareTimestampingAvailable(interface: interface)
            return TimestampingPlan.Capability(hardwareTimestamping: reported.available, phcIndex: reported.phcIndex)
        }
        var sockets: [UInt16: PTPPortSockets] = [:]
        var portConfigurations: [PTPPortConfiguration] = []
        for (index, port) in configuration.ports.enumerated() {
            let number = UInt16(index + 1)
            let socketSet = try PTPPortSockets(interface: port.interface, network: port.network)
            if plan.hardwareTimestamps {
                let filter = try socketSet.enableHardwareTimestamping()
                log("\(port.interface): hardware timestamps on (receive filter \(filter))")
            }
            sockets[number] = socketSet
            portConfigurations.append(PTPPortConfiguration(
                portNumber: number, intervals: port.intervals, announceReceiptTimeout: port.announceReceiptTimeout,
                delayMechanism: port.delayMechanism, masterOnly: port.masterOnly))
        }
        self.sockets = sockets
        guard let first = sockets[1] else { throw DaemonError("no ports configured") }

        switch plan.clock {
        case .overlay(let offset, let frequencyError):
            if #available(macOS 15, *) {
                clock = OverlayClock(initialOffset: NTPDuration(approximateSeconds: offset), intrinsicFrequencyError: frequencyError)
            } else {
                throw DaemonError("overlay clocks need a newer OS")
            }
        case .system: clock = KernelClock.system()
        case .ptpHardware(let path): clock = try KernelClock.ptpHardware(path: path)
        }
        timestampMapping = PTPTimestampMapping(hardwareTimestamps: plan.hardwareTimestamps, clockIsUTC: plan.clockIsUTC)

        let defaults = DefaultDataset(
            clockIdentity: ClockIdentity(mac: first.macAddress),
            clockQuality: ClockQuality(clockClass: configuration.clockClass, clockAccuracy: configuration.clockAccuracy,
                                       offsetScaledLogVariance: 0xFFFF),
            priority1: configuration.priority1, priority2: configuration.priority2, domainNumber: configuration.domain,
            sdoId: configuration.sdoId, slaveOnly: configuration.slaveOnly)
        // A clock on the UTC scale (system or overlay) announces the ARB timescale as master and
        // sends its own readings; a PHC runs on TAI (the PTP timescale).
        var local = TimePropertiesDataset()
        local.ptpTimescale = !plan.clockIsUTC
        instance = PTPInstance(defaults: defaults, localTimeProperties: local, ports: portConfigurations)
        servo = PTPServo(logSyncInterval: configuration.ports[0].intervals.logSyncInterval,
                         stepThreshold: configuration.stepThresholdSeconds,
                         firstStepThreshold: configuration.firstStepThresholdSeconds)
        if let path = configuration.boundsPath {
            do {
                bounds = BoundsPublisher(segment: try BoundsSegment.create(at: path), clock: clock)
            } catch {
                throw DaemonError("[observability] bounds-path: \(error)")
            }
        }
        let fd = pendulum_termination_signal_fd()
        guard fd >= 0 else { throw DaemonError("signalfd: errno \(-fd)") }
        signalDescriptor = fd
        publishStatus()
        let published = published
        if let path = configuration.observationPath {
            observationServer = try ObservationServer(path: path) { published.snapshot }
        }
        if let listen = configuration.metricsListen {
            metricsEndpoint = try MetricsEndpoint(host: listen.host, port: listen.port) { published.snapshot }
        }
    }

    deinit {
        close(signalDescriptor)
    }

    private static func now() -> PTPInstant {
        let (seconds, attoseconds) = MonotonicClock.now().components
        return PTPInstant(nanoseconds: seconds &* 1_000_000_000 &+ attoseconds / 1_000_000_000)
    }

    // MARK: time scales

    private func ptpTimestamp(of stamp: PacketTimestamp, transmit: Bool) -> PTPTimestamp? {
        timestampMapping.ptpTimestamp(of: stamp, transmit: transmit, timeProperties: instance.timeProperties) {
            clock.time(atSystemTime: $0)
        }
    }

    // MARK: loop

    package func run() {
        let identity = instance.defaults.clockIdentity
        log("pendulum-ptpd: clock identity \(identity), domain \(configuration.domain), \(configuration.ports.count) port(s), clock \(clock.kind.rawValue)")
        perform(instance.start(at: Self.now()))
        var descriptors: [(fd: Int32, port: UInt16)] = []
        for (number, socketSet) in sockets.sorted(by: { $0.key < $1.key }) {
            for fd in socketSet.descriptors { descriptors.append((fd, number)) }
        }
        let summaryInterval = Duration.nanoseconds(Int64(configuration.summaryIntervalSeconds * 1e9))
        var nextReport = Self.now() + summaryInterval
        publishStatus()
        do {
            try observationServer?.start()
            try metricsEndpoint?.start()
        } catch {
            log("observation and metrics not served: \(error)")
        }
        if let path = configuration.observationPath { log("observation socket \(path)") }
        if let endpoint = metricsEndpoint, let listen = configuration.metricsListen {
            log("metrics on \(listen.host.contains(":") ? "[\(listen.host)]" : listen.host):\(endpoint.port)")
        }
        if let path = configuration.boundsPath { log("error bounds published at \(path)") }
        var nextBounds = Self.now()
        defer {
            observationServer?.stop()
            metricsEndpoint?.stop()
            // Stopped: a reader must not go on trusting the last values until they go stale.
            bounds?.publishStopped()
        }

        while true {
            let now = Self.now()
            let nextTimer = timers.values.min() ?? (now + .seconds(1))
            let wake = bounds == nil ? min(nextTimer, nextReport) : min(nextTimer, nextReport, nextBounds)
            let waitMilliseconds = max(0, min(1000, (wake.nanoseconds - now.nanoseconds + 999_999) / 1_000_000))
            var pollers = [pollfd(fd: signalDescriptor, events: Int16(POLLIN), revents: 0)]
            pollers += descriptors.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&pollers, nfds_t(pollers.count), Int32(waitMilliseconds))
            if ready < 0 && errno != EINTR {
                log("poll failed: errno \(errno)")
                break
            }
            if pollers[0].revents != 0 {
                log("pendulum-ptpd: terminating")
                break
            }
            for (index, entry) in descriptors.enumerated() where pollers[index + 1].revents != 0 {
                guard let socketSet = sockets[entry.port] else { continue }
                while let message = socketSet.receive(from: entry.fd) {
                    let ingress = ptpTimestamp(of: message.timestamp, transmit: false)
                    perform(instance.receive(message.bytes, onPort: entry.port, ingress: ingress, at: Self.now()))
                }
            }
            let afterIO = Self.now()
            for (key, deadline) in timers.sorted(by: { $0.value < $1.value }) where deadline <= afterIO {
                // A timer may have been re-armed or cancelled by an earlier one's actions.
                guard timers[key] == deadline else { continue }
                timers[key] = nil
                perform(instance.timerExpired(key.timer, port: key.port, at: afterIO))
            }
            if bounds != nil, afterIO >= nextBounds {
                // Once a second, so that readers can tell a running daemon from a stopped one.
                nextBounds = afterIO + .seconds(1)
                publishBounds()
            }
            if afterIO >= nextReport {
                nextReport = afterIO + summaryInterval
                if let line = summary.take() { log(line) }
                publishStatus()
            }
        }
        publishStatus()
    }

    // MARK: actions

    private func perform(_ initial: [PTPAction]) {
        var queue = initial[...]
        while let action = queue.popFirst() {
            switch action {
            case .send(let outgoing):
                queue.append(contentsOf: send(outgoing))
            case .armTimer(let port, let timer, let after):
                timers[TimerKey(port: port, timer: timer)] = Self.now() + after
            case .cancelTimer(let port, let timer):
                timers[TimerKey(port: port, timer: timer)] = nil
            case .stateChanged(let port, let from, let to):
                log("port \(port): \(from) -> \(to)")
                publishStatus()
            case .offsetMeasured(let measurement):
                steer(with: measurement)
            case .parentChanged(let parent, let properties):
                log("new parent \(parent.parentPortIdentity), grandmaster \(parent.grandmasterIdentity)"
                    + (properties.ptpTimescale ? ", PTP timescale, UTC offset \(properties.currentUtcOffset)\(properties.currentUtcOffsetValid ? "" : " (not valid)")" : ", ARB timescale"))
                servo.restart()
                lastOffset = nil
                lastDelay = nil
            case .timePropertiesChanged(let properties):
                log("time properties: UTC offset \(properties.currentUtcOffset), valid \(properties.currentUtcOffsetValid), leap61 \(properties.leap61), leap59 \(properties.leap59)")
            case .pathDelayMeasured(_, _, _, let slaveToMaster):
                if !slaveToMaster.isSaturated { servo.delayMeasured(slaveToMaster: slaveToMaster.ntpDuration) }
            case .peerDelayMeasured:
                break
            }
        }
    }

    private func send(_ outgoing: PTPOutgoingMessage) -> [PTPAction] {
        guard let socketSet = sockets[outgoing.port] else { return [] }
        let stamp: PacketTimestamp?
        do {
            stamp = try socketSet.send(outgoing.bytes, event: outgoing.isEvent, peerDelay: outgoing.isPeerDelay)
        } catch {
            sendErrors += 1
            if sendErrors <= 10 { log("port \(outgoing.port): \(error)") }
            return []
        }
        guard outgoing.isEvent else { return [] }
        guard let stamp, let egress = ptpTimestamp(of: stamp, transmit: true) else {
            // No usable transmit timestamp: the exchange this message started cannot be measured.
            missingTransmitTimestamps += 1
            return []
        }
        return instance.transmitted(port: outgoing.port, messageType: outgoing.message.messageType,
                                    sequenceId: outgoing.message.header.sequenceId, egress: egress, at: Self.now())
    }

    private func steer(with measurement: PTPMeasurement) {
        let offset = measurement.offsetFromMaster.seconds
        let delay = measurement.meanPathDelay.seconds
        lastOffset = offset
        lastDelay = delay
        offsetSamples += 1
        let localTime = clock.now()
        let update: DisciplineUpdate
        if measurement.exceedsIntervalRange || measurement.meanPathDelay.isSaturated {
            // Days apart: only the wide offset is meaningful, and a step will follow.
            update = servo.handle(masterToSlave: .nanoseconds(measurement.offsetFromMasterNanoseconds), meanPathDelay: .zero,
                                  localTime: localTime)
        } else {
            update = servo.handle(masterToSlave: measurement.masterToSlave.ntpDuration,
                                  meanPathDelay: measurement.meanPathDelay.ntpDuration, localTime: localTime)
        }
        for action in update.actions {
            do {
                switch action {
                case .step(let amount):
                    try clock.step(by: amount)
                    log(String(format: "clock stepped by %.9f s", amount.seconds))
                case .setFrequency(let frequency):
                    try clock.setFrequency(frequency)
                case .setLeap, .setTAIOffset:
                    break  // Leap seconds come from the grandmaster's flags, not the servo.
                }
            } catch {
                log("clock: \(error)")
            }
        }
        for event in update.events {
            switch event {
            case .sampleRejectedAsOutlier, .sampleRejectedForDelay: break
            default: log("servo: \(event)")
            }
        }
        summary.add(offset: offset, delay: delay, frequencyPPB: clock.status.frequencyPPM * 1000)
        publishStatus()
        publishBounds()
    }

    /// The servo's bound on the error against the grandmaster, plus the grandmaster's own
    /// announced accuracy when it announces one (ptp4l's default, 0xFE, says nothing: the
    /// bound is then against the grandmaster's time).
    private func publishBounds() {
        guard let bounds else { return }
        let grandmasterAccuracy = instance.parent.grandmasterClockQuality.accuracySeconds ?? 0
        bounds.publish { reading in
            guard var bound = servo.errorBound(at: reading) else { return nil }
            bound.maximumError += grandmasterAccuracy
            return bound
        }
    }

    // MARK: status

    private func publishStatus() {
        let ports = instance.portStates.map { entry in
            let settings = configuration.ports[Int(entry.port) - 1]
            return ObservationSnapshot.PTP.Port(
                portNumber: entry.port, interface: settings.interface, network: settings.network.rawValue,
                delayMechanism: settings.delayMechanism == .p2p ? "p2p" : "e2e", state: entry.state.description,
                stateCode: entry.state.rawValue, timestamping: settings.timestamping.rawValue)
        }
        let status = clock.status
        let counters = instance.counters
        let ptp = ObservationSnapshot.PTP(
            clockIdentity: instance.defaults.clockIdentity.description, domain: instance.defaults.domainNumber,
            ports: ports, offsetFromMasterSeconds: lastOffset, meanPathDelaySeconds: lastDelay,
            grandmasterIdentity: instance.parent.grandmasterIdentity.description,
            parentPortIdentity: instance.parent.parentPortIdentity.description,
            stepsRemoved: instance.current.stepsRemoved, offsetSamples: offsetSamples,
            frequencyPPB: status.frequencyPPM * 1000,
            counters: .init(received: counters.received, malformed: counters.malformed, wrongDomain: counters.wrongDomain,
                            ownMessages: counters.ownMessages, impossibleTimestamps: counters.impossibleTimestamps,
                            ignored: counters.ignored, missingTransmitTimestamps: missingTransmitTimestamps,
                            sendErrors: sendErrors))
        let properties = instance.timeProperties
        published.snapshot = .ptpDaemon(ptp, leap: properties.leapIndicator.rawValue, clockKind: status.kind.rawValue,
                                        clockOffsetFromSystemSeconds: status.offsetFromSystem?.seconds,
                                        frequencyPPM: status.frequencyPPM)
    }
}

/// The latest snapshot, handed from the daemon's loop to the observation and metrics threads.
private final class PublishedSnapshot: @unchecked Sendable {
    private let lock = NSLock()
    private var latest: ObservationSnapshot?

    var snapshot: ObservationSnapshot {
        get {
            lock.withLock { latest } ?? .ptpDaemon(
                .init(clockIdentity: "", domain: 0, ports: [], offsetFromMasterSeconds: nil, meanPathDelaySeconds: nil,
                      grandmasterIdentity: "", parentPortIdentity: "", stepsRemoved: 0, offsetSamples: 0, frequencyPPB: 0,
                      counters: .init(received: 0, malformed: 0, wrongDomain: 0, ownMessages: 0, impossibleTimestamps: 0,
                                      ignored: 0, missingTransmitTimestamps: 0, sendErrors: 0)),
                leap: 3, clockKind: "", clockOffsetFromSystemSeconds: nil, frequencyPPM: 0)
        }
        set { lock.withLock { latest = newValue } }
    }
}

package struct DaemonError: Error, CustomStringConvertible {
    package var description: String
    init(_ description: String) { self.description = description }
}
