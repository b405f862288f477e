import Foundation
import PendulumSync

/// pendulum-ptpd's observation socket, read the way `pendulum status --json` reads it.
enum PTPObservation {
    static func read(_ socket: String) -> ObservationSnapshot? {
        guard let data = try? ObservationServer.read(from: socket, timeout: 1) else { return nil }
        return try? JSONDecoder().decode(ObservationSnapshot.self, from: data)
    }

    static func ptp(_ socket: String) -> ObservationSnapshot.PTP? { read(socket)?.ptp }
}

/// Runs independent blocking scenarios on their own threads and returns their results in order.
/// Assertions stay on the caller's thread: the scenarios only collect what they saw.
func runConcurrently<Result: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) -> Result) -> [Result] {
    // One thread each: the scenarios mostly sleep, and concurrentPerform would cap them at the core count.
    let results = LockedResults<Result>(count: count)
    let group = DispatchGroup()
    for index in 0..<count {
        group.enter()
        Thread {
            results.set(index, body(index))
            group.leave()
        }.start()
    }
    group.wait()
    return results.values
}

private final class LockedResults<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [Value?]
    init(count: Int) { storage = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ value: Value) { lock.withLock { storage[index] = value } }
    var values: [Value] { lock.withLock { storage.compactMap { $0 } } }
}
