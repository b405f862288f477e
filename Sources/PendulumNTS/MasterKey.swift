/// One server master key: it seals the cookies minted while it is current, and opens them
/// while it is kept.
public struct MasterKey: Sendable, Hashable {
    /// Written at the front of every cookie so the server knows which key opens it.
    public var id: UInt32
    /// Unix seconds when this key became current; rotation is measured from it.
    public var createdAt: Int64
    /// The material and its keyed ciphers behind one reference: a serving thread copies the
    /// keyset (and so its keys) per request, and one retain per key costs less than one per
    /// array and cipher (profiled: about 5 % of an NTS answer).
    private let keyed: KeyedMaterial

    /// AES-SIV-CMAC-256 key (32 bytes).
    public var material: [UInt8] { keyed.material }
    /// The material's cipher, keyed once: every cookie minted or opened uses it, and serving
    /// threads share it read-only. nil when the material has the wrong length.
    var cipher: AESSIV? { keyed.cipher }
    /// The cipher's AES-instruction key, for the serving path (nil without AES instructions).
    var hardwareKeys: HardwareAES128Keys? { keyed.hardwareKeys }

    public static let algorithm = AEADAlgorithm.aesSIVCMAC256

    public init(id: UInt32, material: [UInt8], createdAt: Int64) {
        self.id = id
        self.createdAt = createdAt
        keyed = KeyedMaterial(material: material)
    }

    /// Immutable after init, so shared read-only across threads.
    private final class KeyedMaterial: Sendable {
        let material: [UInt8]
        let cipher: AESSIV?
        let hardwareKeys: HardwareAES128Keys?

        init(material: [UInt8]) {
            self.material = material
            cipher = try? AESSIV(algorithm: MasterKey.algorithm, key: material)
            hardwareKeys = cipher?.hardwareKeys
        }
    }

    public static func == (lhs: MasterKey, rhs: MasterKey) -> Bool {
        lhs.id == rhs.id && lhs.material == rhs.material && lhs.createdAt == rhs.createdAt
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(id)
        hasher.combine(material)
        hasher.combine(createdAt)
    }
}

extension MasterKey: CustomStringConvertible {
    /// Never prints the key material.
    public var description: String { "MasterKey(id: \(id), createdAt: \(createdAt))" }
}
