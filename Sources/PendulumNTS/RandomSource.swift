/// Where NTS gets its random bytes (nonces, unique identifiers, master keys). Injected so the
/// protocol code stays deterministic under test; production uses `SystemRandomSource`.
public protocol NTSRandomSource {
    mutating func bytes(_ count: Int) -> [UInt8]
}

/// The operating system's CSPRNG (getrandom(2) on Linux, through the standard library's
/// `SystemRandomNumberGenerator`).
public struct SystemRandomSource: NTSRandomSource, Sendable {
    public init() {}

    public mutating func bytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        var output: [UInt8] = []
        output.reserveCapacity(count + 8)
        while output.count < count {
            let word = generator.next()
            for shift in stride(from: 0, to: 64, by: 8) { output.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
        }
        return Array(output.prefix(count))
    }
}
