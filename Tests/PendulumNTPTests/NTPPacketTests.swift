import PendulumTime
import Testing
@testable import PendulumNTP

/// A chrony-style server reply, byte for byte.
let sampleServerReply: [UInt8] = [
    0x24, 0x02, 0x06, 0xE9,  // LI 0, v4, mode 4; stratum 2; poll 6; precision -23
    0x00, 0x00, 0x01, 0x80,  // root delay 0x180 / 65536 s
    0x00, 0x00, 0x00, 0x40,  // root dispersion
    0x7F, 0x7F, 0x01, 0x01,  // reference id 127.127.1.1
    0xEA, 0xF0, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00,  // reference
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,  // origin
    0xEA, 0xF0, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,  // receive
    0xEA, 0xF0, 0x00, 0x01, 0x00, 0x10, 0x00, 0x00,  // transmit
]

@Suite struct NTPPacketTests {
    @Test func parsesEveryHeaderField() throws {
        let packet = try NTPPacket(parsing: sampleServerReply)
        let header = packet.header
        #expect(header.leap == .none)
        #expect(header.version == 4)
        #expect(header.mode == .server)
        #expect(header.stratum == 2)
        #expect(header.poll == 6)
        #expect(header.precision == -23)
        #expect(header.rootDelay.rawValue == 0x180)
        #expect(header.rootDispersion.rawValue == 0x40)
        #expect(header.referenceID.dottedQuad == "127.127.1.1")
        #expect(header.originTimestamp.rawValue == 0x0102_0304_0506_0708)
        #expect(header.transmitTimestamp.seconds == 0xEAF0_0001)
        #expect(packet.extensionFields.isEmpty && packet.mac == nil)
        #expect(packet.serialized() == sampleServerReply)
    }

    @Test func rejectsTruncatedHeaders() {
        for length in [0, 1, 47] {
            #expect(throws: NTPPacketError.truncated(length: length)) {
                try NTPPacket(parsing: Array(sampleServerReply.prefix(length)))
            }
        }
    }

    @Test func rejectsVersionsOutsideOneToFour() {
        for version: UInt8 in [0, 5, 6, 7] {
            var bytes = sampleServerReply
            bytes[0] = bytes[0] & 0b1100_0111 | version << 3
            #expect(throws: NTPPacketError.unsupportedVersion(version)) { try NTPPacket(parsing: bytes) }
        }
    }

    @Test func rejectsModesWithOtherPacketFormats() {
        for mode in [NTPMode.reserved, .control, .privateUse] {
            var bytes = sampleServerReply
            bytes[0] = bytes[0] & 0b1111_1000 | mode.rawValue
            #expect(throws: NTPPacketError.unsupportedMode(mode)) { try NTPPacket(parsing: bytes) }
        }
    }

    @Test func parsesExtensionFieldsThenAMac() throws {
        let uniqueID = ExtensionField(type: ExtensionFieldType.ntsUniqueIdentifier, value: Array(repeating: 0xAB, count: 32))
        let short = ExtensionField(type: 0x1234, value: [1, 2, 3])  // padded to the 16-byte minimum
        let mac = LegacyMAC(keyID: 7, digest: Array(repeating: 0xCD, count: 20))
        var original = try NTPPacket(parsing: sampleServerReply)
        original.extensionFields = [uniqueID, short]
        original.mac = mac
        let bytes = original.serialized()
        #expect(bytes.count == 48 + 36 + 16 + 24)
        let parsed = try NTPPacket(parsing: bytes)
        #expect(parsed.extensionFields.count == 2)
        #expect(parsed.extensionFields[0] == uniqueID)
        #expect(parsed.extensionFields[1].type == 0x1234)
        #expect(parsed.extensionFields[1].value == [1, 2, 3] + Array(repeating: 0, count: 9))
        #expect(parsed.mac == mac)
        #expect(parsed.serialized() == bytes)
    }

    @Test func twentyOrTwentyFourTrailingBytesAreAMac() throws {
        for digestLength in [16, 20] {
            let bytes = sampleServerReply + [0, 0, 0, 9] + Array(repeating: 0x55, count: digestLength)
            let packet = try NTPPacket(parsing: bytes)
            #expect(packet.mac?.keyID == 9)
            #expect(packet.mac?.digest.count == digestLength)
        }
    }

    @Test func rejectsMalformedExtensionFields() {
        func field(type: UInt16 = 0x0104, length: UInt16, body: Int) -> [UInt8] {
            [UInt8(type >> 8), UInt8(type & 0xFF), UInt8(length >> 8), UInt8(length & 0xFF)]
                + Array(repeating: 0, count: body)
        }
        #expect(throws: NTPPacketError.extensionFieldTooShort(offset: 48, length: 8)) {
            try NTPPacket(parsing: sampleServerReply + field(length: 8, body: 28))
        }
        #expect(throws: NTPPacketError.extensionFieldMisaligned(offset: 48, length: 30)) {
            try NTPPacket(parsing: sampleServerReply + field(length: 30, body: 28))
        }
        #expect(throws: NTPPacketError.extensionFieldOverrunsPacket(offset: 48, length: 64, available: 32)) {
            try NTPPacket(parsing: sampleServerReply + field(length: 64, body: 28))
        }
        #expect(throws: NTPPacketError.trailingBytes(offset: 48, count: 7)) {
            try NTPPacket(parsing: sampleServerReply + Array(repeating: 0, count: 7))
        }
        // A well-formed field followed by a stray 5 bytes.
        #expect(throws: NTPPacketError.trailingBytes(offset: 80, count: 5)) {
            try NTPPacket(parsing: sampleServerReply + field(length: 32, body: 28) + [1, 2, 3, 4, 5])
        }
        // Zero length must not loop forever.
        #expect(throws: NTPPacketError.extensionFieldTooShort(offset: 48, length: 0)) {
            try NTPPacket(parsing: sampleServerReply + field(length: 0, body: 28))
        }
    }

    @Test func olderVersionsMayCarryOnlyAMac() throws {
        var bytes = sampleServerReply
        bytes[0] = 0x1C  // v3 server
        #expect(try NTPPacket(parsing: bytes + Array(repeating: 1, count: 20)).mac != nil)
        #expect(throws: NTPPacketError.extensionFieldsBeforeVersion4(version: 3)) {
            try NTPPacket(parsing: bytes + Array(repeating: 0, count: 32))
        }
    }

    @Test func randomInputNeverTrapsAndAcceptedInputRoundTrips() {
        var generator = SplitMix64(seed: 0x5EED)
        var accepted = 0
        for round in 0..<20_000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                // Mutations of a valid packet with fields reach deeper than pure noise.
                bytes = sampleServerReply + [0x01, 0x04, 0x00, 0x24] + Array(repeating: 7, count: 32)
                for _ in 0..<Int(generator.next() % 4) {
                    let index = Int(generator.next() % UInt64(bytes.count))
                    bytes[index] = UInt8(truncatingIfNeeded: generator.next())
                }
                bytes = Array(bytes.prefix(Int(generator.next() % UInt64(bytes.count + 1))))
            } else {
                bytes = (0..<Int(generator.next() % 200)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            }
            if let packet = try? NTPPacket(parsing: bytes) {
                accepted += 1
                #expect(packet.serialized() == bytes)
            }
        }
        #expect(accepted > 100)
    }
}

/// A tiny seeded generator so property tests are reproducible.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
