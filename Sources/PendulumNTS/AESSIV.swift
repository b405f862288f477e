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
    /// K1, the leftmost half of the key: S2V.
    private let macKey: SymmetricKey
    /// K2, the rightmost half: CTR.
    private let ctrKey: SymmetricKey

    public static let tagByteCount = 16
    /// RFC 5297 §2.4: S2V takes at most 127 components, the plaintext being the last.
    public static let maximumAssociatedDataComponents = 126

    public init(algorithm: AEADAlgorithm, key: some Collection<UInt8>) throws(AEADError) {
        guard key.count == algorithm.keyByteCount else {
            throw .invalidKeyLength(expected: algorithm.keyByteCount, actual: key.count)
        }
        let bytes = Array(key)
        let half = bytes.count / 2
        self.algorithm = algorithm
        self.macKey = SymmetricKey(data: bytes[..<half])
        self.ctrKey = SymmetricKey(data: bytes[half...])
    }

    /// Seals with the RFC 5116 nonce-based interface NTS uses: S2V over (associated data, nonce,
    /// plaintext). Returns the synthetic IV followed by the ciphertext.
    public func seal(_ plaintext: some Collection<UInt8>, nonce: some Collection<UInt8>, associatedData: some Collection<UInt8>) -> [UInt8] {
        // Two components are always within the RFC limit.
        (try? seal(plaintext, associatedDataComponents: [Array(associatedData), Array(nonce)])) ?? []
    }

    /// Opens what `seal(_:nonce:associatedData:)` produced.
    public func open(_ sealed: some Collection<UInt8>, nonce: some Collection<UInt8>, associatedData: some Collection<UInt8>) throws(AEADError) -> [UInt8] {
        try open(sealed, associatedDataComponents: [Array(associatedData), Array(nonce)])
    }

    /// The general RFC 5297 form: any number of associated-data components (a nonce, when used,
    /// is simply the last of them).
    public func seal(_ plaintext: some Collection<UInt8>, associatedDataComponents: [[UInt8]]) throws(AEADError) -> [UInt8] {
        guard associatedDataComponents.count <= Self.maximumAssociatedDataComponents else {
            throw .tooManyAssociatedDataComponents(associatedDataComponents.count)
        }
        let plaintext = Array(plaintext)
        let syntheticIV = s2v(associatedDataComponents, plaintext)
        var output = syntheticIV
        output.reserveCapacity(Self.tagByteCount + plaintext.count)
        output.append(contentsOf: ctr(plaintext, syntheticIV: syntheticIV))
        return output
    }

    public func open(_ sealed: some Collection<UInt8>, associatedDataComponents: [[UInt8]]) throws(AEADError) -> [UInt8] {
        guard associatedDataComponents.count <= Self.maximumAssociatedDataComponents else {
            throw .tooManyAssociatedDataComponents(associatedDataComponents.count)
        }
        let sealed = Array(sealed)
        guard sealed.count >= Self.tagByteCount else { throw .ciphertextTooShort(length: sealed.count) }
        let syntheticIV = Array(sealed[..<Self.tagByteCount])
        let plaintext = ctr(Array(sealed[Self.tagByteCount...]), syntheticIV: syntheticIV)
        let expected = s2v(associatedDataComponents, plaintext)
        guard constantTimeEqual(expected, syntheticIV) else { throw .authenticationFailed }
        return plaintext
    }

    // MARK: - RFC 5297 building blocks

    private func cmac(_ message: [UInt8]) -> [UInt8] {
        // The key length was checked at init (16 or 32 bytes), so CMAC cannot refuse it.
        guard var mac = try? AES.CMAC(key: macKey) else { return [] }
        mac.update(data: message)
        return mac.finalize().withUnsafeBytes { Array($0) }
    }

    /// S2V (RFC 5297 §2.4), with the plaintext as the final component.
    private func s2v(_ associatedData: [[UInt8]], _ plaintext: [UInt8]) -> [UInt8] {
        var d = cmac([UInt8](repeating: 0, count: 16))
        for component in associatedData {
            d = xor(doubled(d), cmac(component))
        }
        if plaintext.count >= 16 {
            // xorend: D is folded into the last 16 bytes of the plaintext.
            var t = plaintext
            let start = t.count - 16
            for index in 0..<16 { t[start + index] ^= d[index] }
            return cmac(t)
        }
        var padded = plaintext
        padded.append(0x80)
        padded.append(contentsOf: repeatElement(0, count: 16 - padded.count))
        return cmac(xor(doubled(d), padded))
    }

    /// CTR with the synthetic IV as the initial counter, bits 31 and 63 cleared (§2.6) so
    /// implementations with 32- or 64-bit counters agree.
    private func ctr(_ input: [UInt8], syntheticIV: [UInt8]) -> [UInt8] {
        guard !input.isEmpty else { return [] }
        var counter = syntheticIV
        counter[8] &= 0x7F
        counter[12] &= 0x7F
        guard let nonce = try? AES._CTR.Nonce(nonceBytes: counter),
              let output = try? AES._CTR.encrypt(input, using: ctrKey, nonce: nonce)
        else { return [] }
        return Array(output)
    }

    /// Multiplication by x in GF(2^128) with the RFC 5297 polynomial (the CMAC subkey "dbl").
    private func doubled(_ block: [UInt8]) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: 16)
        var carry: UInt8 = 0
        for index in stride(from: 15, through: 0, by: -1) {
            result[index] = (block[index] << 1) | carry
            carry = block[index] >> 7
        }
        // Branch-free reduction: 0x87 when the top bit was set.
        result[15] ^= 0x87 & (0 &- carry)
        return result
    }

    private func xor(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
        var result = a
        for index in result.indices { result[index] ^= b[index] }
        return result
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
