import PendulumNTS

/// Where the client core draws nonces and NTS unique identifiers from: the operating system's
/// CSPRNG in the daemon; a seeded sequence in simulation, so that a run repeats exactly
/// (simulated servers are not attackers, so predictability costs nothing there).
public struct ClientRandomSource: NTSRandomSource, RandomNumberGenerator, Sendable {
    private var seededState: UInt64?

    /// The system's CSPRNG.
    public init() {}

    /// A repeatable sequence (SplitMix64). Never for real sources.
    public init(seed: UInt64) { seededState = seed }

    public mutating func next() -> UInt64 {
        guard var state = seededState else {
            var system = SystemRandomNumberGenerator()
            return system.next()
        }
        state &+= 0x9E37_79B9_7F4A_7C15
        seededState = state
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }

    public mutating func bytes(_ count: Int) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(count + 8)
        while output.count < count {
            let word = next()
            for shift in stride(from: 0, to: 64, by: 8) { output.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
        }
        return Array(output.prefix(count))
    }
}
