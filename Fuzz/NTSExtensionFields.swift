// libFuzzer target: NTS packet parsing (header, extension fields, authenticator) must be total,
// and neither the client's response check nor the server's request check may trap on any
// input. A client that accepts a fuzzed packet as authentic would be a forgery: that traps.
import PendulumNTP
import PendulumNTS

private let keyset = deterministicKeyset(step: 53)

private let keys = NTSKeys(c2s: [UInt8](repeating: 1, count: 32), s2c: [UInt8](repeating: 2, count: 32))

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNTSExtensionFields(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let packet = try? NTSPacket(parsing: bytes) {
        precondition(packet.authenticatedBytes.count <= bytes.count)
    }
    _ = NTSServerHandler.authenticate(bytes, keyset: keyset)

    var random = CountingRandom(step: 53)
    let cookie = keyset.mintCookie(aead: .aesSIVCMAC256, keys: keys, random: &random)
    guard var client = try? NTSClientAssociation(aead: .aesSIVCMAC256, keys: keys, cookies: [cookie]),
          (try? client.makeRequest(header: NTPHeader(mode: .client), random: &random)) != nil
    else { preconditionFailure("client setup failed") }
    // Graft the outstanding request's UID into the input when it has room, so the fuzzer gets
    // past the UID check to the authenticator.
    var grafted = bytes
    if grafted.count >= 48 + 36 {
        var uidRandom = CountingRandom(step: 53)
        _ = keyset.mintCookie(aead: .aesSIVCMAC256, keys: keys, random: &uidRandom)
        let uid = uidRandom.bytes(32)
        grafted.replaceSubrange(48..<52, with: [0x01, 0x04, 0x00, 36])
        grafted.replaceSubrange(52..<84, with: uid)
    }
    for candidate in [bytes, grafted] {
        var attempt = client
        if case .authenticated = attempt.handleResponse(candidate) {
            preconditionFailure("a fuzzed packet authenticated")
        }
    }
    return 0
}
