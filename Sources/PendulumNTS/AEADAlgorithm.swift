/// AEAD algorithm identifiers from the IANA "AEAD Algorithms" registry, as negotiated by NTS-KE
/// (RFC 8915 §4.1.5). Only the AES-SIV-CMAC variants are implemented.
public enum AEADAlgorithm: UInt16, Sendable, CaseIterable {
    case aesSIVCMAC256 = 15
    case aesSIVCMAC512 = 17

    /// Key length in bytes: two AES keys, one for S2V (CMAC) and one for CTR.
    public var keyByteCount: Int {
        switch self {
        case .aesSIVCMAC256: return 32
        case .aesSIVCMAC512: return 64
        }
    }
}
