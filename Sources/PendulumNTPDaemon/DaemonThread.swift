#if canImport(Glibc)
import Glibc
#endif

/// A plain OS thread for blocking loops (socket reads, timers), kept off Swift's cooperative
/// pool so a blocked read never starves tasks.
public final class DaemonThread: Sendable {
    private final class Body {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    private let thread: pthread_t

    public init(_ run: @escaping @Sendable () -> Void) throws(DaemonError) {
        let body = Unmanaged.passRetained(Body(run)).toOpaque()
        var handle = pthread_t()
        let result = pthread_create(&handle, nil, { raw in
            guard let raw else { return nil }
            let body = Unmanaged<Body>.fromOpaque(raw).takeRetainedValue()
            body.run()
            return nil
        }, body)
        guard result == 0 else {
            Unmanaged<Body>.fromOpaque(body).release()
            throw DaemonError.startup("cannot start a thread: \(String(cString: strerror(result)))")
        }
        thread = handle
    }

    public func join() {
        pthread_join(thread, nil)
    }
}
