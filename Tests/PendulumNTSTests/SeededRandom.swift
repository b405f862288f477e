@testable import PendulumNTS

/// Deterministic random source for tests.
struct SeededRandom: NTSRandomSource {
    var inner: SeededBytes
    init(seed: UInt64) { inner = SeededBytes(seed: seed) }
    mutating func bytes(_ count: Int) -> [UInt8] { inner.next(count) }
}
