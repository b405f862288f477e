import CPendulumShim
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A plain OS thread for blocking loops (socket reads, timers, name lookups), kept off Swift's
/// cooperative pool so a blocked read never starves tasks. Written on pthreads rather than
/// Foundation's `Thread` so the daemons do not load Foundation (and ICU) for it: a client-only
/// pendulum-ntpd's resident memory is mostly pages of the libraries it loads.
public final class DaemonThread: Sendable {
    public struct StartFailure: Error, CustomStringConvertible {
        public let code: Int32
        public var description: String { "cannot start a thread: \(String(cString: strerror(code)))" }
    }

    private final class Body {
        let name: String?
        let run: @Sendable () -> Void
        init(_ name: String?, _ run: @escaping @Sendable () -> Void) {
            self.name = name
            self.run = run
        }
    }

    private let thread: pthread_t
    private let joined = Atomic<Bool>(false)

    /// Starts `run` on a new thread; `name` (15 bytes at most are kept) shows in `top -H`.
    public init(name: String? = nil, _ run: @escaping @Sendable () -> Void) throws(StartFailure) {
        thread = try Self.start(Body(name, run))
    }

    /// Starts `run` on a thread nobody joins: its resources go when it ends.
    public static func detached(name: String? = nil, _ run: @escaping @Sendable () -> Void) throws(StartFailure) {
        pthread_detach(try start(Body(name, run)))
    }

    private static func start(_ body: Body) throws(StartFailure) -> pthread_t {
        let retained = Unmanaged.passRetained(body).toOpaque()
        var handle = pthread_t()
        let result = pthread_create(&handle, nil, { raw in
            guard let raw else { return nil }
            let body = Unmanaged<Body>.fromOpaque(raw).takeRetainedValue()
            if let name = body.name { pendulum_name_this_thread(name) }
            body.run()
            return nil
        }, retained)
        guard result == 0 else {
            Unmanaged<Body>.fromOpaque(retained).release()
            throw StartFailure(code: result)
        }
        return handle
    }

    /// Waits for the thread to end. A second call returns at once: joining a thread twice is
    /// undefined behaviour, and a stop may be reached from a signal and from shutdown alike.
    public func join() {
        guard joined.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        pthread_join(thread, nil)
    }
}
