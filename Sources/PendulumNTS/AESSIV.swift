// An internal import: no C type appears in any declaration clients see, so clients (fuzz
// targets built by hand among them) need not find the shim's module map.
internal import CPendulumShim
import Crypto
import _CryptoExtras

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// AES-SIV (RFC 5297): deterministic, misuse-resistant authenticated encryption built from
/// AES-CMAC (for the S2V pseudo-random function) and AES-CTR. NTS uses it as
/// AEAD_AES_SIV_CMAC_256 (id 15, two AES-128 keys) and AEAD_AES_SIV_CMAC_512 (id 17, two
/// AES-256 keys).
///
/// swift-crypto 4.5.2 provides `AES.CMAC` and `AES._CTR` in `_CryptoExtras`; the CTR mode
/// increments the whole 128-bit counter big-endian (BoringSSL's `AES_ctr128_encrypt`), which is
/// exactly the `Q + i mod 2^128` RFC 5297 §2.6 asks for, so no block-level code is needed here.
public struct AESSIV: Sendable {
    public let algorithm: AEADAlgorithm
    /// K1, the leftmost half of the key, already expanded into a CMAC: every S2V step starts
    /// from a copy of it (copy-on-write duplicates the context, not the key schedule work).
    /// nil when `hardware` does the work.
    private let keyedMAC: AES.CMAC?
    /// K2, the rightmost half: CTR.
    private let ctrKey: SymmetricKey
    /// Both halves expanded for the processor's AES instructions (AES-128 halves only): CMAC
    /// and CTR without a key setup or an allocation per call.
    private let hardware: HardwareAES128Keys?
    /// S2V's first step, CMAC(K1, 0¹²⁸), depends on the key alone: computed once.
    private let zeroBlockMAC: Block

    /// The expanded key of the AES-instruction path, for callers that work in place.
    var hardwareKeys: HardwareAES128Keys? { hardware }

    /// Whether this process uses the processor's AES instructions for AES-SIV-CMAC-256.
    public static let usesHardwareAES = pendulum_aes_hardware_available() != 0

    public static let tagByteCount = 16
    /// RFC 5297 §2.4: S2V takes at most 127 components, the plaintext being the last.
    public static let maximumAssociatedDataComponents = 126

    public init(algorithm: AEADAlgorithm, key: some Collection<UInt8>) throws(AEADError) {
        try self.init(algorithm: algorithm, key: key, hardwareIfAvailable: true)
    }

    /// `hardwareIfAvailable: false` forces swift-crypto (tests compare the two).
    init(algorithm: AEADAlgorithm, key: some Collection<UInt8>, hardwareIfAvailable: Bool) throws(AEADError) {
        guard key.count == algorithm.keyByteCount else {
            throw .invalidKeyLength(expected: algorithm.keyByteCount, actual: key.count)
        }
        let bytes = Array(key)
        let half = bytes.count / 2
        self.algorithm = algorithm
        ctrKey = SymmetricKey(data: bytes[half...])
        if hardwareIfAvailable, half == 16, Self.usesHardwareAES {
            let keys = HardwareAES128Keys(material: bytes)
            hardware = keys
            keyedMAC = nil
            // The C key computed it when it was set up: read it, do not compute it again.
            zeroBlockMAC = withUnsafeBytes(of: keys.key.pointee.zero_mac) { Block($0, at: 0) }
            return
        }
        // The key length was checked above (16 or 32 bytes per half), so CMAC cannot refuse it.
        guard let mac = try? AES.CMAC(key: SymmetricKey(data: bytes[..<half])) else {
            throw .invalidKeyLength(expected: algorithm.keyByteCount, actual: key.count)
        }
        hardware = nil
        keyedMAC = mac
        zeroBlockMAC = Self.cmac(mac, Block.zero.bytes)
    }

    /// Seals with the RFC 5116 nonce-based interface NTS uses: S2V over (associated data, nonce,
    /// plaintext). Returns the synthetic IV followed by the ciphertext.
    public func seal(_ plaintext: some Collection<UInt8>, nonce: some Collection<UInt8>, associatedData: some Collection<UInt8>) -> [UInt8] {
        if let hardware {
            var output = [UInt8](repeating: 0, count: Self.tagByteCount)
            output.append(contentsOf: plaintext)
            Array(associatedData).withUnsafeBytes { associatedData in
                Array(nonce).withUnsafeBytes { nonce in
                    output.withUnsafeMutableBytes { sealed in hardware.seal(associatedData: associatedData, nonce: nonce, sealed: sealed) }
                }
            }
            return output
        }
        let plaintext = Array(plaintext)
        let syntheticIV = s2v(associatedData: Array(associatedData), nonce: Array(nonce), plaintext: plaintext)
        return sealed(plaintext, syntheticIV: syntheticIV)
    }

    /// Opens what `seal(_:nonce:associatedData:)` produced.
    public func open(_ sealed: some Collection<UInt8>, nonce: some Collection<UInt8>, associatedData: some Collection<UInt8>) throws(AEADError) -> [UInt8] {
        let sealed = Array(sealed)
        guard sealed.count >= Self.tagByteCount else { throw .ciphertextTooShort(length: sealed.count) }
        if let hardware {
            var plaintext = [UInt8](repeating: 0, count: sealed.count - Self.tagByteCount)
            let authentic = Array(associatedData).withUnsafeBytes { associatedData in
                Array(nonce).withUnsafeBytes { nonce in
                    sealed.withUnsafeBytes { sealed in
                        plaintext.withUnsafeMutableBytes { plaintext in
                            hardware.open(associatedData: associatedData, nonce: nonce, sealed: sealed, into: plaintext)
                        }
                    }
                }
            }
            guard authentic else { throw .authenticationFailed }
            return plaintext
        }
        let syntheticIV = sealed.withUnsafeBytes { Block($0, at: 0) }
        let plaintext = ctr(sealed[Self.tagByteCount...], syntheticIV: syntheticIV)
        let expected = s2v(associatedData: Array(associatedData), nonce: Array(nonce), plaintext: plaintext)
        guard expected.constantTimeEquals(syntheticIV) else { throw .authenticationFailed }
        return plaintext
    }

    /// The general RFC 5297 form: any number of associated-data components (a nonce, when used,
    /// is simply the last of them).
    public func seal(_ plaintext: some Collection<UInt8>, associatedDataComponents: [[UInt8]]) throws(AEADError) -> [UInt8] {
        guard associatedDataComponents.count <= Self.maximumAssociatedDataComponents else {
            throw .tooManyAssociatedDataComponents(associatedDataComponents.count)
        }
        let plaintext = Array(plaintext)
        return sealed(plaintext, syntheticIV: s2v(associatedDataComponents, plaintext))
    }

    public func open(_ sealed: some Collection<UInt8>, associatedDataComponents: [[UInt8]]) throws(AEADError) -> [UInt8] {
        guard associatedDataComponents.count <= Self.maximumAssociatedDataComponents else {
            throw .tooManyAssociatedDataComponents(associatedDataComponents.count)
        }
        let sealed = Array(sealed)
        guard sealed.count >= Self.tagByteCount else { throw .ciphertextTooShort(length: sealed.count) }
        let syntheticIV = sealed.withUnsafeBytes { Block($0, at: 0) }
        let plaintext = ctr(sealed[Self.tagByteCount...], syntheticIV: syntheticIV)
        let expected = s2v(associatedDataComponents, plaintext)
        guard expected.constantTimeEquals(syntheticIV) else { throw .authenticationFailed }
        return plaintext
    }

    private func sealed(_ plaintext: [UInt8], syntheticIV: Block) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(Self.tagByteCount + plaintext.count)
        syntheticIV.append(to: &output)
        output.append(contentsOf: ctr(plaintext[...], syntheticIV: syntheticIV))
        return output
    }

    // MARK: - RFC 5297 building blocks

    private static func cmac(_ keyed: AES.CMAC, _ message: UnsafeRawBufferPointer) -> Block {
        var mac = keyed
        mac.update(bufferPointer: message)
        return mac.finalize().withUnsafeBytes { Block($0, at: 0) }
    }

    private static func cmac(_ keyed: AES.CMAC, _ message: [UInt8]) -> Block {
        message.withUnsafeBytes { cmac(keyed, $0) }
    }

    /// CMAC with K1, by whichever implementation this instance has.
    private func mac(_ message: [UInt8]) -> Block {
        message.withUnsafeBytes { mac($0) }
    }

    private func mac(_ message: UnsafeRawBufferPointer) -> Block {
        if let hardware { return hardware.cmac(message, xorEnd: nil) }
        guard let keyedMAC else { return .zero }
        return Self.cmac(keyedMAC, message)
    }

    /// S2V for NTS's two components (associated data, nonce) without building a list of them.
    private func s2v(associatedData: [UInt8], nonce: [UInt8], plaintext: [UInt8]) -> Block {
        var d = zeroBlockMAC.doubled ^ mac(associatedData)
        d = d.doubled ^ mac(nonce)
        return finalS2VStep(d, plaintext)
    }

    /// S2V (RFC 5297 §2.4), with the plaintext as the final component.
    private func s2v(_ associatedData: [[UInt8]], _ plaintext: [UInt8]) -> Block {
        var d = zeroBlockMAC
        for component in associatedData {
            d = d.doubled ^ mac(component)
        }
        return finalS2VStep(d, plaintext)
    }

    private func finalS2VStep(_ d: Block, _ plaintext: [UInt8]) -> Block {
        if plaintext.count >= 16 {
            // xorend: D folded into the last 16 bytes, fed to CMAC in two parts (no copy).
            if let hardware {
                return plaintext.withUnsafeBytes { raw in hardware.cmac(raw, xorEnd: d) }
            }
            guard let keyedMAC else { return .zero }
            return plaintext.withUnsafeBytes { raw in
                let split = raw.count - 16
                var mac = keyedMAC
                mac.update(bufferPointer: UnsafeRawBufferPointer(rebasing: raw[..<split]))
                let last = Block(raw, at: split) ^ d
                last.withBytes { mac.update(bufferPointer: $0) }
                return mac.finalize().withUnsafeBytes { Block($0, at: 0) }
            }
        }
        var padded = Block.zero.bytes
        for index in plaintext.indices { padded[index] = plaintext[index] }
        padded[plaintext.count] = 0x80
        return (d.doubled ^ Block(padded)).withBytes { mac($0) }
    }

    /// CTR with the synthetic IV as the initial counter, bits 31 and 63 of its second half cleared (§2.6) so
    /// implementations with 32- or 64-bit counters agree.
    private func ctr(_ input: ArraySlice<UInt8>, syntheticIV: Block) -> [UInt8] {
        guard !input.isEmpty else { return [] }
        // Bytes 8 and 12 lose their top bit: bits 63 and 31 of the low word.
        let counter = Block(high: syntheticIV.high, low: syntheticIV.low & ~(UInt64(1) << 63 | UInt64(1) << 31))
        if let hardware { return hardware.ctr(input, counter: counter) }
        guard let nonce = try? AES._CTR.Nonce(nonceBytes: counter.bytes),
              let output = try? AES._CTR.encrypt(input, using: ctrKey, nonce: nonce)
        else { return [] }
        return Array(output)
    }
}

/// AES-SIV's two AES-128 keys expanded for the processor's AES instructions, with CMAC's
/// subkeys, in one C struct at a fixed address. Immutable after creation; shared read-only
/// between threads; wiped when released.
final class HardwareAES128Keys: @unchecked Sendable {
    let key: UnsafeMutablePointer<pendulum_siv_cmac_256_key>

    init(material: some Collection<UInt8>) {
        key = .allocate(capacity: 1)
        key.initialize(to: pendulum_siv_cmac_256_key())
        Array(material).withUnsafeBufferPointer { pendulum_siv_cmac_256_init(key, $0.baseAddress) }
    }

    deinit {
        pendulum_siv_cmac_256_clear(key)
        key.deallocate()
    }

    func cmac(_ message: UnsafeRawBufferPointer, xorEnd: Block?) -> Block {
        var output = (UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &output) { out in
            let mac = out.baseAddress?.assumingMemoryBound(to: UInt8.self)
            let bytes = message.baseAddress?.assumingMemoryBound(to: UInt8.self)
            if let xorEnd {
                xorEnd.withBytes { end in
                    pendulum_siv_cmac_256_mac(key, bytes, message.count, end.baseAddress?.assumingMemoryBound(to: UInt8.self), mac)
                }
            } else {
                pendulum_siv_cmac_256_mac(key, bytes, message.count, nil, mac)
            }
        }
        return withUnsafeBytes(of: &output) { Block($0, at: 0) }
    }

    func ctr(_ input: ArraySlice<UInt8>, counter: Block) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: input.count)
        input.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { destination in
                counter.withBytes { start in
                    pendulum_siv_cmac_256_ctr(key, start.baseAddress?.assumingMemoryBound(to: UInt8.self), source.baseAddress, destination.baseAddress, source.count)
                }
            }
        }
        return output
    }

    /// `sealed` is tag ‖ plaintext on entry and tag ‖ ciphertext on return.
    func seal(associatedData: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer, sealed: UnsafeMutableRawBufferPointer) {
        Self.seal(key, associatedData: associatedData, nonce: nonce, sealed: sealed)
    }

    func open(associatedData: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer, sealed: UnsafeRawBufferPointer, into plaintext: UnsafeMutableRawBufferPointer) -> Bool {
        Self.open(key, associatedData: associatedData, nonce: nonce, sealed: sealed, into: plaintext)
    }

    /// The in-place seal for any key, this class's or one on a caller's stack. `sealed` holds
    /// at least the tag; the caller checked the buffers.
    static func seal(_ key: UnsafePointer<pendulum_siv_cmac_256_key>, associatedData: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer,
                     sealed: UnsafeMutableRawBufferPointer) {
        guard sealed.count >= AESSIV.tagByteCount, let base = sealed.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        pendulum_siv_cmac_256_seal(key, associatedData.baseAddress?.assumingMemoryBound(to: UInt8.self), associatedData.count,
                                   nonce.baseAddress?.assumingMemoryBound(to: UInt8.self), nonce.count,
                                   base + AESSIV.tagByteCount, sealed.count - AESSIV.tagByteCount, base)
    }

    /// Opens tag ‖ ciphertext into `plaintext` (exactly the ciphertext's length).
    static func open(_ key: UnsafePointer<pendulum_siv_cmac_256_key>, associatedData: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer,
                     sealed: UnsafeRawBufferPointer, into plaintext: UnsafeMutableRawBufferPointer) -> Bool {
        guard sealed.count >= AESSIV.tagByteCount, plaintext.count == sealed.count - AESSIV.tagByteCount,
              let base = sealed.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return false }
        let output = plaintext.baseAddress?.assumingMemoryBound(to: UInt8.self)
        return pendulum_siv_cmac_256_open(key, associatedData.baseAddress?.assumingMemoryBound(to: UInt8.self), associatedData.count,
                                          nonce.baseAddress?.assumingMemoryBound(to: UInt8.self), nonce.count,
                                          base, base + AESSIV.tagByteCount, output, plaintext.count) == 1
    }
}

/// One 128-bit block as two big-endian words: S2V's doubling and xor without byte arrays.
struct Block: Sendable, Hashable {
    var high: UInt64
    var low: UInt64

    static let zero = Block(high: 0, low: 0)

    init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The 16 bytes at `offset` (the caller checked they exist).
    init(_ raw: UnsafeRawBufferPointer, at offset: Int) {
        var high: UInt64 = 0
        var low: UInt64 = 0
        for index in 0..<8 { high = high << 8 | UInt64(raw[offset + index]) }
        for index in 8..<16 { low = low << 8 | UInt64(raw[offset + index]) }
        self.init(high: high, low: low)
    }

    init(_ bytes: [UInt8]) {
        self = bytes.withUnsafeBytes { Block($0, at: 0) }
    }

    var bytes: [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(16)
        append(to: &result)
        return result
    }

    func append(to buffer: inout [UInt8]) {
        for shift in stride(from: 56, through: 0, by: -8) { buffer.append(UInt8(truncatingIfNeeded: high >> UInt64(shift))) }
        for shift in stride(from: 56, through: 0, by: -8) { buffer.append(UInt8(truncatingIfNeeded: low >> UInt64(shift))) }
    }

    func withBytes<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        var words = (high.bigEndian, low.bigEndian)
        return withUnsafeBytes(of: &words) { body($0) }
    }

    /// Multiplication by x in GF(2^128) with the RFC 5297 polynomial (the CMAC subkey "dbl"),
    /// branch-free: 0x87 folded in when the top bit was set.
    var doubled: Block {
        let carry = high >> 63
        return Block(high: high << 1 | low >> 63, low: (low << 1) ^ (0x87 & (0 &- carry)))
    }

    static func ^ (a: Block, b: Block) -> Block {
        Block(high: a.high ^ b.high, low: a.low ^ b.low)
    }

    /// Time independent of where the blocks differ.
    func constantTimeEquals(_ other: Block) -> Bool {
        (high ^ other.high) | (low ^ other.low) == 0
    }
}

/// Compares two byte strings in time that depends only on their lengths, so a forger learns
/// nothing from how long a rejection takes.
func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for index in a.indices { difference |= a[index] ^ b[index] }
    return difference == 0
}
