/// Why an AEAD operation refused its input.
public enum AEADError: Error, Sendable, Hashable {
    /// The key is not the length the algorithm needs (32 bytes for id 15, 64 for id 17).
    case invalidKeyLength(expected: Int, actual: Int)
    /// Sealed data shorter than the 16-byte synthetic IV.
    case ciphertextTooShort(length: Int)
    /// The synthetic IV did not match: wrong key, wrong associated data, or tampered bytes.
    case authenticationFailed
    /// RFC 5297 §2.4 bounds S2V to 126 associated-data components (plus the plaintext).
    case tooManyAssociatedDataComponents(Int)
}
