#if canImport(Glibc)
import Glibc
#endif

/// Where NTS gets its random bytes (nonces, unique identifiers, master keys). Injected so the
/// protocol code stays deterministic under test; production uses `SystemRandomSource`.
public protocol NTSRandomSource {
    mutating func bytes(_ count: Int) -> [UInt8]
    /// Fills `buffer`: the serving path's form, which need not allocate.
    mutating func fill(_ buffer: UnsafeMutableRawBufferPointer)
}

extension NTSRandomSource {
    public mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        buffer.copyBytes(from: bytes(buffer.count))
    }
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

/// The operating system's CSPRNG read a few kilobytes at a time: a serving thread needs two
/// 16-byte nonces per NTS answer, and a getrandom(2) call for each would cost more than the
/// encryption. The bytes are the kernel's, handed out once each and never reused. One per
/// thread (it is a value; copies would hand out the same bytes, so do not copy a filled one).
public struct BufferedSystemRandomSource: NTSRandomSource {
    private var buffer: [UInt8]
    private var position: Int

    public init(bufferBytes: Int = 4096) {
        buffer = [UInt8](repeating: 0, count: max(64, bufferBytes))
        position = buffer.count
    }

    public mutating func bytes(_ count: Int) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: count)
        output.withUnsafeMutableBytes { fill($0) }
        return output
    }

    public mutating func fill(_ output: UnsafeMutableRawBufferPointer) {
        guard output.count <= buffer.count else {
            var direct = SystemRandomSource()
            output.copyBytes(from: direct.bytes(output.count))
            return
        }
        if buffer.count - position < output.count { refill() }
        let start = position
        position += output.count
        buffer.withUnsafeMutableBytes { source in
            let handedOut = UnsafeMutableRawBufferPointer(rebasing: source[start..<position])
            output.copyMemory(from: UnsafeRawBufferPointer(handedOut))
            // Handed out: forget them here so they cannot leak through a later copy of this value.
            handedOut.initializeMemory(as: UInt8.self, repeating: 0)
        }
    }

    private mutating func refill() {
        buffer.withUnsafeMutableBytes { raw in
            var offset = 0
            #if canImport(Glibc)
            // The kernel's CSPRNG in one read for the whole buffer (Glibc's module does not
            // export getrandom(2); /dev/urandom is the same generator).
            let descriptor = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
            if descriptor >= 0 {
                while offset < raw.count, let base = raw.baseAddress {
                    let got = read(descriptor, base + offset, raw.count - offset)
                    if got <= 0 { break }
                    offset += got
                }
                close(descriptor)
            }
            #endif
            // Where that failed, word by word from the standard library.
            var generator = SystemRandomNumberGenerator()
            while offset < raw.count {
                let word = generator.next() as UInt64
                for shift in stride(from: 0, to: 64, by: 8) where offset < raw.count {
                    raw[offset] = UInt8(truncatingIfNeeded: word >> UInt64(shift))
                    offset += 1
                }
            }
        }
        position = 0
    }
}
