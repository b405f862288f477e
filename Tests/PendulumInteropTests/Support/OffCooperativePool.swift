import Foundation

/// Runs blocking work (child processes, their waits) on a thread of its own, so that an async
/// test waiting on it leaves Swift's cooperative threads (two on this machine) to the other
/// suites' async tests, whose deadlines would otherwise fire while they are starved.
func offCooperativePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
