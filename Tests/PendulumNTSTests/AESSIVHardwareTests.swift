import Testing
@testable import PendulumNTS

/// The AES-instruction path of AES-SIV-CMAC-256 against swift-crypto's, on every plaintext and
/// associated-data length around the block boundaries; and opening each other's output.
@Suite struct AESSIVHardwareTests {
    @Test func hardwareAndSwiftCryptoAgree() throws {
        try #require(AESSIV.usesHardwareAES, "no AES instructions on this machine: nothing to compare")
        var key = [UInt8](repeating: 0, count: 32)
        for index in key.indices { key[index] = UInt8(truncatingIfNeeded: index &* 37 &+ 11) }
        let hardware = try AESSIV(algorithm: .aesSIVCMAC256, key: key, hardwareIfAvailable: true)
        let software = try AESSIV(algorithm: .aesSIVCMAC256, key: key, hardwareIfAvailable: false)
        for plaintextLength in 0...140 {
            for adLength in [0, 1, 15, 16, 17, 31, 32, 33, 48, 200] {
                let plaintext = (0..<plaintextLength).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ plaintextLength) }
                let ad = (0..<adLength).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ adLength) }
                let nonce = (0..<[16, 1, 33][plaintextLength % 3]).map { UInt8(truncatingIfNeeded: $0 &+ plaintextLength &+ adLength) }
                let sealed = hardware.seal(plaintext, nonce: nonce, associatedData: ad)
                #expect(sealed == software.seal(plaintext, nonce: nonce, associatedData: ad), "plaintext \(plaintextLength), ad \(adLength)")
                #expect(try software.open(sealed, nonce: nonce, associatedData: ad) == plaintext)
                #expect(try hardware.open(sealed, nonce: nonce, associatedData: ad) == plaintext)
                #expect(try hardware.seal(plaintext, associatedDataComponents: [ad]) == software.seal(plaintext, associatedDataComponents: [ad]))
            }
        }
    }

    @Test func aForgedTagIsRefusedByTheHardwarePath() throws {
        try #require(AESSIV.usesHardwareAES, "no AES instructions on this machine: nothing to test")
        let hardware = try AESSIV(algorithm: .aesSIVCMAC256, key: [UInt8](repeating: 9, count: 32), hardwareIfAvailable: true)
        let nonce = [UInt8](repeating: 1, count: 16)
        let sealed = hardware.seal([UInt8](repeating: 0x55, count: 90), nonce: nonce, associatedData: [1, 2, 3])
        for index in [0, 15, 16, 105] {
            var forged = sealed
            forged[index] ^= 0x01
            #expect(throws: AEADError.authenticationFailed) { try hardware.open(forged, nonce: nonce, associatedData: [1, 2, 3]) }
        }
        #expect(throws: AEADError.authenticationFailed) { try hardware.open(sealed, nonce: nonce, associatedData: [1, 2, 4]) }
    }
}
