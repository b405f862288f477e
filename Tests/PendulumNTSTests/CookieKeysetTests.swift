import Testing
@testable import PendulumNTS
#if canImport(Glibc)
import Glibc
#endif

@Suite struct CookieKeysetTests {
    let keys = NTSKeys(c2s: (0..<32).map { UInt8($0) }, s2c: (32..<64).map { UInt8($0) })

    @Test func cookieRoundTripsAndHasTheDocumentedLayout() throws {
        var random = SeededRandom(seed: 1)
        let keyset = CookieKeyset.generate(now: 1000, random: &random)
        let cookie = keyset.mintCookie(aead: .aesSIVCMAC256, keys: keys, random: &random)
        #expect(cookie.count == Cookie.byteCount(for: .aesSIVCMAC256))
        #expect(cookie.count == 4 + 16 + 16 + 4 + 64)
        #expect(cookie.count % 4 == 0)
        #expect(Cookie.keyID(of: cookie) == keyset.current.id)
        let opened = try keyset.openCookie(cookie)
        #expect(opened.aead == .aesSIVCMAC256 && opened.keys == keys)

        let keys512 = NTSKeys(c2s: [UInt8](repeating: 1, count: 64), s2c: [UInt8](repeating: 2, count: 64))
        let cookie512 = keyset.mintCookie(aead: .aesSIVCMAC512, keys: keys512, random: &random)
        #expect(try keyset.openCookie(cookie512).keys == keys512)
        #expect(cookie512.count <= 256, "chrony accepts cookies up to 256 bytes")
    }

    @Test func cookiesAreUnlinkable() {
        var random = SeededRandom(seed: 2)
        let keyset = CookieKeyset.generate(now: 0, random: &random)
        let first = keyset.mintCookie(aead: .aesSIVCMAC256, keys: keys, random: &random)
        let second = keyset.mintCookie(aead: .aesSIVCMAC256, keys: keys, random: &random)
        #expect(first.dropFirst(4) != second.dropFirst(4))
    }

    @Test func everyBitFlipAndUnknownKeyIsRejected() {
        var random = SeededRandom(seed: 3)
        let keyset = CookieKeyset.generate(now: 0, random: &random)
        let cookie = keyset.mintCookie(aead: .aesSIVCMAC256, keys: keys, random: &random)
        for bit in 32..<(cookie.count * 8) {
            var tampered = cookie
            tampered[bit / 8] ^= 1 << (bit % 8)
            #expect(throws: CookieError.authenticationFailed) { try keyset.openCookie(tampered) }
        }
        var otherID = cookie
        otherID[3] ^= 1
        #expect(throws: CookieError.unknownKey(id: keyset.current.id ^ 1)) { try keyset.openCookie(otherID) }
        #expect(throws: CookieError.tooShort(length: 39)) { try keyset.openCookie(Array(cookie.prefix(39))) }
    }

    @Test func rotationKeepsSevenStaleKeysAndHonoursThePeriod() throws {
        var random = SeededRandom(seed: 4)
        var keyset = CookieKeyset.generate(now: 0, random: &random)
        let oldCookie = keyset.mintCookie(aead: .aesSIVCMAC256, keys: keys, random: &random)
        #expect(!keyset.rotateIfDue(now: 86_399, random: &random))
        #expect(!keyset.rotateIfDue(now: -5, random: &random), "a clock stepped back does not rotate")
        #expect(keyset.rotateIfDue(now: 86_400, random: &random))
        #expect(keyset.stale.count == 1)
        #expect(try keyset.openCookie(oldCookie).keys == keys, "cookies of the previous key still open")
        for day in 2...7 { #expect(keyset.rotateIfDue(now: Int64(day) * 86_400, random: &random)) }
        #expect(keyset.stale.count == 7)
        #expect(try keyset.openCookie(oldCookie).keys == keys, "seven stale keys cover a week")
        #expect(keyset.rotateIfDue(now: 8 * 86_400, random: &random))
        #expect(keyset.stale.count == 7)
        #expect(throws: CookieError.unknownKey(id: Cookie.keyID(of: oldCookie) ?? 0)) { try keyset.openCookie(oldCookie) }
        // After a long outage: one rotation, not one per missed day.
        let before = keyset.current.id
        #expect(keyset.rotateIfDue(now: 100 * 86_400, random: &random))
        #expect(keyset.current.id == before &+ 1)
        #expect(!keyset.rotateIfDue(now: 100 * 86_400 + 1, random: &random))
    }

    @Test func serialisationRoundTripsAndDetectsCorruption() throws {
        var random = SeededRandom(seed: 5)
        var keyset = CookieKeyset.generate(now: 10, random: &random, staleKeyLimit: 3, rotationPeriod: 3600)
        for hour in 1...5 { keyset.rotate(now: Int64(hour) * 3600, random: &random) }
        let bytes = keyset.serialized()
        #expect(try CookieKeyset(serialized: bytes) == keyset)
        for index in bytes.indices {
            var corrupt = bytes
            corrupt[index] ^= 0x10
            #expect(throws: KeysetDecodingError.self) { try CookieKeyset(serialized: corrupt) }
        }
        var checksumOnly = bytes
        checksumOnly[checksumOnly.count - 1] ^= 1
        #expect(throws: KeysetDecodingError.checksumMismatch) { try CookieKeyset(serialized: checksumOnly) }
        #expect(throws: KeysetDecodingError.tooShort(length: 10)) { try CookieKeyset(serialized: Array(bytes.prefix(10))) }
        #expect(throws: KeysetDecodingError.checksumMismatch) { try CookieKeyset(serialized: Array(bytes.dropLast(1))) }
        var version = bytes
        version[7] = 9
        #expect(throws: KeysetDecodingError.unsupportedVersion(9)) { try CookieKeyset(serialized: version) }
    }
}
