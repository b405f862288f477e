import PendulumWire

/// Why the server could not use a cookie.
public enum CookieError: Error, Sendable, Hashable {
    /// Shorter than key id + nonce + tag + AEAD id.
    case tooShort(length: Int)
    /// The key id names no key this server still holds: answer with an NTS NAK.
    case unknownKey(id: UInt32)
    /// The cookie was not sealed by that key (forged or corrupted).
    case authenticationFailed
    /// Decrypted, but not AEAD id ‖ C2S ‖ S2C of a supported algorithm.
    case malformedContents
}

/// The server's cookie format, the one RFC 8915 §6 recommends:
/// key id (u32) ‖ nonce (16 bytes) ‖ AES-SIV-CMAC-256(master key, nonce, AD = key id)(AEAD id ‖ C2S ‖ S2C).
/// The AEAD id is written as a u16 followed by a zero u16 so every cookie is a multiple of four
/// bytes: NTP extension fields pad their values to four bytes, and a padded cookie would no
/// longer open (104 bytes for id 15, 168 for id 17). A cookie is opaque to clients; only the
/// server that minted it (or one sharing its keyset) reads it.
public enum Cookie {
    public static let nonceByteCount = 16
    static let keyIDByteCount = 4
    static let algorithmFieldByteCount = 4
    public static let minimumByteCount = keyIDByteCount + nonceByteCount + AESSIV.tagByteCount + algorithmFieldByteCount

    public static func byteCount(for aead: AEADAlgorithm) -> Int {
        minimumByteCount + 2 * aead.keyByteCount
    }

    /// Seals the association's keys into a cookie under `masterKey`.
    public static func mint(aead: AEADAlgorithm, keys: NTSKeys, masterKey: MasterKey, random: inout some NTSRandomSource) -> [UInt8] {
        var keyID: [UInt8] = []
        keyID.appendBigEndian(masterKey.id)
        let nonce = random.bytes(nonceByteCount)
        var plaintext: [UInt8] = []
        plaintext.appendBigEndian(aead.rawValue)
        plaintext.appendBigEndian(UInt16(0))
        plaintext += keys.c2s
        plaintext += keys.s2c
        // The master key's length is fixed by construction and checked on load.
        guard let siv = masterKey.cipher else { return [] }
        return keyID + nonce + siv.seal(plaintext, nonce: nonce, associatedData: keyID)
    }

    /// The key id a cookie names, if it is long enough to name one.
    public static func keyID(of cookie: [UInt8]) -> UInt32? {
        cookie.count >= keyIDByteCount ? cookie.bigEndianUInt32(at: 0) : nil
    }

    /// Opens a cookie with whichever key `lookup` returns for its key id.
    public static func open(_ cookie: [UInt8], lookup: (UInt32) -> MasterKey?) throws(CookieError) -> (aead: AEADAlgorithm, keys: NTSKeys) {
        guard cookie.count >= minimumByteCount else { throw .tooShort(length: cookie.count) }
        let id = cookie.bigEndianUInt32(at: 0)
        guard let masterKey = lookup(id) else { throw .unknownKey(id: id) }
        guard let siv = masterKey.cipher else { throw .authenticationFailed }
        let keyID = Array(cookie[..<keyIDByteCount])
        let nonce = Array(cookie[keyIDByteCount..<keyIDByteCount + nonceByteCount])
        let plaintext: [UInt8]
        do {
            plaintext = try siv.open(cookie[(keyIDByteCount + nonceByteCount)...], nonce: nonce, associatedData: keyID)
        } catch {
            throw .authenticationFailed
        }
        let prefix = algorithmFieldByteCount
        guard plaintext.count >= prefix, let aead = AEADAlgorithm(rawValue: plaintext.bigEndianUInt16(at: 0)),
              plaintext.bigEndianUInt16(at: 2) == 0, plaintext.count == prefix + 2 * aead.keyByteCount
        else { throw .malformedContents }
        let c2s = Array(plaintext[prefix..<prefix + aead.keyByteCount])
        let s2c = Array(plaintext[(prefix + aead.keyByteCount)...])
        return (aead, NTSKeys(c2s: c2s, s2c: s2c))
    }
}
