import Crypto
import PendulumWire

/// The server's master keys: one current key that seals new cookies and up to
/// `staleKeyLimit` older ones that still open cookies issued before a rotation. A pure value:
/// time and randomness come in as arguments, and persistence is `serialized()` /
/// `init(serialized:)` (pendulum-ntpd keeps them in a file: `KeysetFile`).
public struct CookieKeyset: Sendable, Hashable {
    public private(set) var current: MasterKey
    /// Newest first.
    public private(set) var stale: [MasterKey]
    public var staleKeyLimit: Int {
        didSet { staleKeyLimit = max(0, staleKeyLimit); trim() }
    }
    /// Seconds a key stays current.
    public var rotationPeriod: Int64

    public static let defaultStaleKeyLimit = 7
    public static let defaultRotationPeriod: Int64 = 86_400
    public static let masterKeyByteCount = MasterKey.algorithm.keyByteCount

    public init(current: MasterKey, stale: [MasterKey] = [], staleKeyLimit: Int = defaultStaleKeyLimit, rotationPeriod: Int64 = defaultRotationPeriod) {
        self.current = current
        self.stale = stale
        self.staleKeyLimit = max(0, staleKeyLimit)
        self.rotationPeriod = max(1, rotationPeriod)
        trim()
    }

    /// A fresh keyset with one random key, current from `now` (Unix seconds).
    public static func generate(now: Int64, random: inout some NTSRandomSource, staleKeyLimit: Int = defaultStaleKeyLimit, rotationPeriod: Int64 = defaultRotationPeriod) -> CookieKeyset {
        let idBytes = random.bytes(4)
        let id = idBytes.bigEndianUInt32(at: 0)
        let key = MasterKey(id: id, material: random.bytes(masterKeyByteCount), createdAt: now)
        return CookieKeyset(current: key, staleKeyLimit: staleKeyLimit, rotationPeriod: rotationPeriod)
    }

    /// When the current key is due to be replaced.
    public var nextRotation: Int64 {
        current.createdAt.addingReportingOverflow(rotationPeriod).overflow ? .max : current.createdAt + rotationPeriod
    }

    /// Rotates when the current key has been current for a full period. After a long downtime
    /// this rotates once, not once per missed period: the stale keys still open the cookies
    /// clients hold, which is what keeps a restart from causing a NAK storm. A clock that went
    /// backwards never rotates. Returns whether it rotated.
    @discardableResult
    public mutating func rotateIfDue(now: Int64, random: inout some NTSRandomSource) -> Bool {
        guard now >= nextRotation else { return false }
        rotate(now: now, random: &random)
        return true
    }

    /// Makes a new random key current, keeping the old one as the newest stale key.
    public mutating func rotate(now: Int64, random: inout some NTSRandomSource) {
        stale.insert(current, at: 0)
        // Sequential ids cannot collide with the keys still held (at most a few hundred).
        current = MasterKey(id: current.id &+ 1, material: random.bytes(Self.masterKeyByteCount), createdAt: now)
        trim()
    }

    /// The key with this id, current or stale.
    public func key(id: UInt32) -> MasterKey? {
        if current.id == id { return current }
        return stale.first { $0.id == id }
    }

    /// The AES-instruction key of the key with this id, without copying the key itself: the
    /// serving path's lookup, once per NTS request.
    func hardwareKeys(id: UInt32) -> HardwareAES128Keys? {
        if current.id == id { return current.hardwareKeys }
        for index in stale.indices where stale[index].id == id { return stale[index].hardwareKeys }
        return nil
    }

    /// A new cookie for an association, sealed with the current key.
    public func mintCookie(aead: AEADAlgorithm, keys: NTSKeys, random: inout some NTSRandomSource) -> [UInt8] {
        Cookie.mint(aead: aead, keys: keys, masterKey: current, random: &random)
    }

    public func openCookie(_ cookie: [UInt8]) throws(CookieError) -> (aead: AEADAlgorithm, keys: NTSKeys) {
        try Cookie.open(cookie, lookup: key(id:))
    }

    private mutating func trim() {
        if stale.count > staleKeyLimit { stale.removeLast(stale.count - staleKeyLimit) }
    }
}

// MARK: - Serialisation

/// Why bytes were not accepted as a keyset. A key file that fails any of these is reported,
/// never silently replaced: replacing it would invalidate every cookie clients hold.
public enum KeysetDecodingError: Error, Sendable, Hashable {
    case tooShort(length: Int)
    case badMagic
    case unsupportedVersion(UInt8)
    /// The SHA-256 at the end does not match: the file is corrupt or truncated.
    case checksumMismatch
    case truncated
    case invalidKeyLength(Int)
    case duplicateKeyID(UInt32)
    case trailingBytes(count: Int)
    case noKeys
    case invalidRotationPeriod(Int64)
}

extension CookieKeyset {
    static let magic: [UInt8] = Array("PNDKEYS".utf8)
    static let formatVersion: UInt8 = 1
    static let checksumByteCount = 32

    /// magic "PNDKEYS" ‖ version u8 ‖ stale limit u8 ‖ rotation period i64 ‖ key count u8 ‖
    /// keys (id u32 ‖ created i64 ‖ length u8 ‖ material), current first ‖ SHA-256 of all before.
    public func serialized() -> [UInt8] {
        var bytes = Self.magic
        bytes.append(Self.formatVersion)
        bytes.append(UInt8(clamping: staleKeyLimit))
        bytes.appendBigEndian(UInt64(bitPattern: rotationPeriod))
        let keys = [current] + stale
        bytes.append(UInt8(clamping: keys.count))
        for key in keys.prefix(255) {
            bytes.appendBigEndian(key.id)
            bytes.appendBigEndian(UInt64(bitPattern: key.createdAt))
            bytes.append(UInt8(clamping: key.material.count))
            bytes += key.material.prefix(255)
        }
        bytes += SHA256.hash(data: bytes)
        return bytes
    }

    public init(serialized bytes: [UInt8]) throws(KeysetDecodingError) {
        let headerCount = Self.magic.count + 1 + 1 + 8 + 1
        guard bytes.count >= headerCount + Self.checksumByteCount else { throw .tooShort(length: bytes.count) }
        guard Array(bytes.prefix(Self.magic.count)) == Self.magic else { throw .badMagic }
        let version = bytes[Self.magic.count]
        guard version == Self.formatVersion else { throw .unsupportedVersion(version) }
        let body = Array(bytes.dropLast(Self.checksumByteCount))
        guard constantTimeEqual(Array(SHA256.hash(data: body)), Array(bytes.suffix(Self.checksumByteCount))) else {
            throw .checksumMismatch
        }
        var offset = Self.magic.count + 1
        let staleLimit = Int(body[offset])
        let period = Int64(bitPattern: body.bigEndianUInt64(at: offset + 1))
        let count = Int(body[offset + 9])
        offset += 10
        var keys: [MasterKey] = []
        for _ in 0..<count {
            guard body.count - offset >= 13 else { throw .truncated }
            let id = body.bigEndianUInt32(at: offset)
            let created = Int64(bitPattern: body.bigEndianUInt64(at: offset + 4))
            let length = Int(body[offset + 12])
            offset += 13
            guard length == Self.masterKeyByteCount else { throw .invalidKeyLength(length) }
            guard body.count - offset >= length else { throw .truncated }
            guard !keys.contains(where: { $0.id == id }) else { throw .duplicateKeyID(id) }
            keys.append(MasterKey(id: id, material: Array(body[offset..<offset + length]), createdAt: created))
            offset += length
        }
        guard offset == body.count else { throw .trailingBytes(count: body.count - offset) }
        guard let first = keys.first else { throw .noKeys }
        guard period > 0 else { throw .invalidRotationPeriod(period) }
        self.init(current: first, stale: Array(keys.dropFirst()), staleKeyLimit: staleLimit, rotationPeriod: period)
    }
}
