#if canImport(Glibc)
import Glibc
#endif
import PendulumDaemonConfig
import PendulumNTPServer
import PendulumNTS
import PendulumNTSKE

/// pendulum-ntpd without sources yet: serves the system clock (as synchronised at
/// `local-stratum`, or unsynchronised) over NTP and NTS, keeps the cookie keyset, and stops
/// cleanly on SIGTERM or SIGINT.
public enum Daemon {
    public static func log(_ message: String) {
        var line = "pendulum-ntpd: \(message)\n"
        // One write(2) per line: lines from several threads never interleave.
        line.withUTF8 { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }

    /// The write end of the pipe the signal handler reports to. Written once, before the
    /// handler is installed; the handler only reads it (a handler cannot capture context).
    nonisolated(unsafe) static var signalPipeWriteEnd: Int32 = -1

    /// Routes SIGTERM and SIGINT into a pipe that `run` waits on: the only async-signal-safe
    /// way to hear them whichever thread (ours, NIO's or Swift's pool) the kernel picks.
    /// Call first thing in main.
    public static func installStopSignalHandlers() -> Int32 {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { return -1 }
        signalPipeWriteEnd = ends[1]
        for stopSignal in [SIGTERM, SIGINT] {
            signal(stopSignal) { number in
                var byte = UInt8(truncatingIfNeeded: number)
                _ = write(Daemon.signalPipeWriteEnd, &byte, 1)
            }
        }
        return ends[0]
    }

    public static func run(_ configuration: DaemonConfiguration, stopSignals: Int32) async throws(DaemonError) {
        let keyset = try configuration.keyset.map { section throws(DaemonError) in try KeysetKeeper.load(section) }
        let clock = configuration.synchronization.localStratum.map { ServerClockState.local(stratum: $0) } ?? .unsynchronized()
        let state = ServingState(clock: clock, keyset: keyset)
        let stop = StopFlag()

        var loops: [UDPServeLoop] = []
        var listeners: [NTSKEServerListener] = []
        var keeper: KeysetKeeper?
        func shutDown() async {
            stop.set()
            for loop in loops { loop.join() }
            keeper?.join()
            for listener in listeners { try? await listener.close() }
        }
        do {
            for (index, section) in configuration.servers.enumerated() {
                loops.append(try UDPServeLoop(listen: section.listen, configuration: section.coreConfiguration, state: state, stop: stop, index: index, workers: section.workers))
            }
            if let section = configuration.keyset {
                keeper = try KeysetKeeper(section: section, state: state, stop: stop, log: log)
            }
            for section in configuration.ntsKEServers {
                listeners.append(try await NTSKEService.start(section, state: state))
            }
        } catch {
            await shutDown()
            throw error
        }

        let what = loops.map { "ntp \($0.localAddress)" } + configuration.ntsKEServers.map { "nts-ke \($0.listen)" }
        let clockText = clock.isSynchronized ? "local clock at stratum \(clock.stratum)" : "unsynchronised (no sources, no local-stratum)"
        let keyText = keyset.map { ", cookie key id \($0.current.id) with \($0.stale.count) stale" } ?? ""
        log("ready: \(what.joined(separator: ", ")); \(clockText)\(keyText)")

        var signalNumber: UInt8 = 0
        while read(stopSignals, &signalNumber, 1) < 0 && errno == EINTR {}
        log("signal \(signalNumber): stopping")
        await shutDown()
        log("stopped; requests: \(state.counters.summary)")
        for (listener, section) in zip(listeners, configuration.ntsKEServers) {
            let counters = listener.counters
            log("nts-ke \(section.listen): accepted=\(counters.accepted) answered=\(counters.answered) refused-over-limit=\(counters.refusedOverLimit) timed-out=\(counters.timedOut) too-large=\(counters.tooLarge) wrong-alpn=\(counters.wrongALPN) tls-failures=\(counters.tlsFailures)")
        }
    }
}
