#if canImport(Glibc)
import Glibc
#endif
import PendulumDaemonConfig
import PendulumIO
import PendulumNTS

/// Loads (or creates) the cookie keyset at startup and rotates it when due, saving each new
/// keyset atomically before the serving threads start using it, so a crash right after a
/// rotation cannot lose the key that sealed cookies already handed out.
package final class KeysetKeeper: Sendable {
    private let thread: DaemonThread

    package static func load(_ section: KeysetSection) throws(DaemonError) -> CookieKeyset {
        var random = SystemRandomSource()
        do {
            return try KeysetFile.loadOrCreate(
                path: section.keyStoragePath, now: WallClock.now().seconds, random: &random,
                staleKeyLimit: section.staleKeyCount, rotationPeriod: section.rotationPeriodSeconds
            )
        } catch {
            throw .startup(error.description)
        }
    }

    /// Checks once a second whether the current key is due; a failed save is reported and
    /// retried, and the unsaved keyset is not used (cookies it sealed would not survive a restart).
    package init(section: KeysetSection, state: ServingState, stop: StopFlag, log: @escaping @Sendable (String) -> Void) throws(DaemonError) {
        thread = try DaemonThread.starting(name: "keyset keeper") {
            var random = SystemRandomSource()
            // A failing save is retried every second but reported once, and its recovery too.
            var failing = false
            while !stop.isSet {
                var pause = timespec(tv_sec: 1, tv_nsec: 0)
                nanosleep(&pause, nil)
                guard var keyset = state.keyset else { continue }
                guard keyset.rotateIfDue(now: WallClock.now().seconds, random: &random) else { continue }
                do {
                    try KeysetFile.save(keyset, path: section.keyStoragePath)
                    state.update(keyset: keyset)
                    log("rotated NTS cookie key: current key id \(keyset.current.id), \(keyset.stale.count) stale keys kept")
                    failing = false
                } catch {
                    if !failing { log("cannot save rotated keyset, keeping the previous one and retrying each second: \(error)") }
                    failing = true
                }
            }
        }
    }

    package func join() { thread.join() }
}
