// libFuzzer target: opening arbitrary bytes as a cookie, and as a serialised keyset, must be
// total; a keyset that decodes must serialise back to exactly its input.
import PendulumNTS

private let keyset: CookieKeyset = {
    var random = CountingRandom(step: 37)
    var keyset = CookieKeyset.generate(now: 0, random: &random)
    keyset.rotate(now: 86_400, random: &random)
    return keyset
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNTSCookieDecoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let opened = try? keyset.openCookie(bytes) {
        precondition(opened.keys.c2s.count == opened.aead.keyByteCount && opened.keys.s2c.count == opened.aead.keyByteCount)
    }
    // Aim at a known key id too, so the fuzzer reaches the AEAD and not only the id lookup.
    var withKnownID = bytes
    if withKnownID.count >= 4 {
        let id = keyset.current.id
        withKnownID[0] = UInt8(truncatingIfNeeded: id >> 24)
        withKnownID[1] = UInt8(truncatingIfNeeded: id >> 16)
        withKnownID[2] = UInt8(truncatingIfNeeded: id >> 8)
        withKnownID[3] = UInt8(truncatingIfNeeded: id)
        _ = try? keyset.openCookie(withKnownID)
    }
    if let decoded = try? CookieKeyset(serialized: bytes) {
        precondition(decoded.serialized() == bytes, "accepted keyset does not round-trip")
    }
    return 0
}
