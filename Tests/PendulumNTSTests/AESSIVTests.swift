import Testing
@testable import PendulumNTS

@Suite struct AESSIVTests {
    // RFC 5297 Appendix A.1: deterministic authenticated encryption.
    let keyA1 = hex("fffefdfc fbfaf9f8 f7f6f5f4 f3f2f1f0 f0f1f2f3 f4f5f6f7 f8f9fafb fcfdfeff")
    let adA1 = hex("10111213 14151617 18191a1b 1c1d1e1f 20212223 24252627")
    let plaintextA1 = hex("11223344 55667788 99aabbcc ddee")
    let outputA1 = hex("85632d07 c6e8f37f 950acd32 0a2ecc93 40c02b96 90c4dc04 daef7f6a fe5c")

    // RFC 5297 Appendix A.2: nonce-based, two AD components then the nonce.
    let keyA2 = hex("7f7e7d7c 7b7a7978 77767574 73727170 40414243 44454647 48494a4b 4c4d4e4f")
    let ad1A2 = hex("00112233 44556677 8899aabb ccddeeff deaddada deaddada ffeeddcc bbaa9988 77665544 33221100")
    let ad2A2 = hex("10203040 50607080 90a0")
    let nonceA2 = hex("09f91102 9d74e35b d84156c5 635688c0")
    let plaintextA2 = Array("this is some plaintext to encrypt using SIV-AES".utf8)
    let outputA2 = hex("""
        7bdb6e3b 432667eb 06f4d14b ff2fbd0f cb900f2f ddbe4043 26601965 c889bf17
        dba77ceb 094fa663 b7a3f748 ba8af829 ea64ad54 4a272e9c 485b62a3 fd5c0d
        """)

    @Test func rfc5297A1Deterministic() throws {
        let siv = try AESSIV(algorithm: .aesSIVCMAC256, key: keyA1)
        #expect(try siv.seal(plaintextA1, associatedDataComponents: [adA1]) == outputA1)
        #expect(try siv.open(outputA1, associatedDataComponents: [adA1]) == plaintextA1)
    }

    @Test func rfc5297A2NonceBased() throws {
        #expect(plaintextA2 == hex("74686973 20697320 736f6d65 20706c61 696e7465 78742074 6f20656e 63727970 74207573 696e6720 5349562d 414553"))
        let siv = try AESSIV(algorithm: .aesSIVCMAC256, key: keyA2)
        #expect(try siv.seal(plaintextA2, associatedDataComponents: [ad1A2, ad2A2, nonceA2]) == outputA2)
        #expect(try siv.open(outputA2, associatedDataComponents: [ad1A2, ad2A2, nonceA2]) == plaintextA2)
    }

    @Test func nonceInterfaceIsAssociatedDataThenNonce() throws {
        let siv = try AESSIV(algorithm: .aesSIVCMAC256, key: keyA2)
        let sealed = siv.seal(plaintextA2, nonce: nonceA2, associatedData: ad1A2)
        #expect(try siv.seal(plaintextA2, associatedDataComponents: [ad1A2, nonceA2]) == sealed)
        #expect(try siv.open(sealed, nonce: nonceA2, associatedData: ad1A2) == plaintextA2)
    }

    @Test func everySingleBitFlipIsRejected() throws {
        let siv = try AESSIV(algorithm: .aesSIVCMAC256, key: keyA2)
        for bit in 0..<(outputA2.count * 8) {
            var tampered = outputA2
            tampered[bit / 8] ^= 1 << (bit % 8)
            #expect(throws: AEADError.authenticationFailed) {
                try siv.open(tampered, associatedDataComponents: [ad1A2, ad2A2, nonceA2])
            }
        }
    }

    @Test func wrongAssociatedDataNonceOrKeyIsRejected() throws {
        let siv = try AESSIV(algorithm: .aesSIVCMAC256, key: keyA2)
        var ad = ad1A2
        ad[0] ^= 1
        #expect(throws: AEADError.authenticationFailed) { try siv.open(outputA2, associatedDataComponents: [ad, ad2A2, nonceA2]) }
        #expect(throws: AEADError.authenticationFailed) { try siv.open(outputA2, associatedDataComponents: [ad1A2, nonceA2]) }
        #expect(throws: AEADError.authenticationFailed) { try siv.open(outputA2, associatedDataComponents: [ad2A2, ad1A2, nonceA2]) }
        var key = keyA2
        key[31] ^= 0x80
        let other = try AESSIV(algorithm: .aesSIVCMAC256, key: key)
        #expect(throws: AEADError.authenticationFailed) { try other.open(outputA2, associatedDataComponents: [ad1A2, ad2A2, nonceA2]) }
    }

    @Test func shortInputsAndBadKeysAreTypedErrors() throws {
        let siv = try AESSIV(algorithm: .aesSIVCMAC256, key: keyA2)
        #expect(throws: AEADError.ciphertextTooShort(length: 15)) { try siv.open(Array(outputA2.prefix(15)), associatedDataComponents: []) }
        #expect(throws: AEADError.invalidKeyLength(expected: 32, actual: 31)) { try AESSIV(algorithm: .aesSIVCMAC256, key: Array(keyA2.prefix(31))) }
        #expect(throws: AEADError.invalidKeyLength(expected: 64, actual: 32)) { try AESSIV(algorithm: .aesSIVCMAC512, key: keyA2) }
        let many = [[UInt8]](repeating: [1], count: 127)
        #expect(throws: AEADError.tooManyAssociatedDataComponents(127)) { try siv.seal([1], associatedDataComponents: many) }
    }

    @Test func sivCMAC512RoundTripsAllLengthsAndDiffersFrom256() throws {
        var random = SeededBytes(seed: 42)
        let key64 = random.next(64)
        let siv512 = try AESSIV(algorithm: .aesSIVCMAC512, key: key64)
        let siv256 = try AESSIV(algorithm: .aesSIVCMAC256, key: Array(key64.prefix(32)))
        let nonce = random.next(16)
        for length in [0, 1, 15, 16, 17, 31, 32, 33, 100] {
            let plaintext = random.next(length)
            let sealed = siv512.seal(plaintext, nonce: nonce, associatedData: [1, 2, 3])
            #expect(sealed.count == 16 + length)
            #expect(try siv512.open(sealed, nonce: nonce, associatedData: [1, 2, 3]) == plaintext)
            #expect(sealed != siv256.seal(plaintext, nonce: nonce, associatedData: [1, 2, 3]))
            var tampered = sealed
            tampered[tampered.count - 1] ^= 1
            #expect(throws: AEADError.authenticationFailed) { try siv512.open(tampered, nonce: nonce, associatedData: [1, 2, 3]) }
        }
    }
}
