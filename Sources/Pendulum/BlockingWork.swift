import PendulumIO
import Synchronization

/// Runs a blocking query on a thread of its own and waits for it without holding one of Swift's
/// cooperative threads (two on a 2-core machine: a few blocked queries would starve the app's
/// other tasks). Cancelling the waiting task raises a flag the work asks at least every 100 ms.
enum BlockingWork {
    private final class StopFlag: Sendable {
        let raised = Atomic<Bool>(false)
    }

    static func run<T: Sendable>(
        _ body: @escaping @Sendable (_ stop: @escaping @Sendable () -> Bool) throws(TimeServerFailure) -> T
    ) async throws(TimeServerFailure) -> T {
        let flag = StopFlag()
        let result: Result<T, TimeServerFailure> = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                do {
                    try DaemonThread.detached(name: "pendulum-query") {
                        let stop: @Sendable () -> Bool = { flag.raised.load(ordering: .relaxed) }
                        do throws(TimeServerFailure) {
                            continuation.resume(returning: .success(try body(stop)))
                        } catch {
                            continuation.resume(returning: .failure(error))
                        }
                    }
                } catch {
                    continuation.resume(returning: .failure(.system("\(error)")))
                }
            }
        } onCancel: {
            flag.raised.store(true, ordering: .relaxed)
        }
        return try result.get()
    }
}
