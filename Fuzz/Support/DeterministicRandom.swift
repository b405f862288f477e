// Compiled into the NTS fuzz targets (`+Fuzz/Support/DeterministicRandom.swift` in
// Fuzz/targets.txt): fixed "random" bytes, so every run has the same keys and nonces and a
// crash reproduces from its input alone.
import PendulumNTS

struct CountingRandom: NTSRandomSource {
    var next: UInt8
    let step: UInt8

    init(next: UInt8 = 0, step: UInt8 = 29) {
        self.next = next
        self.step = step
    }

    mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in next &+= step; return next }
    }
}

/// A keyset generated from `CountingRandom` with this step.
func deterministicKeyset(step: UInt8 = 29) -> CookieKeyset {
    var random = CountingRandom(step: step)
    return CookieKeyset.generate(now: 0, random: &random)
}
