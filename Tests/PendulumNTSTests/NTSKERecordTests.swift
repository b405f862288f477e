import Testing
@testable import PendulumNTS

@Suite struct NTSKERecordTests {
    @Test func clientRequestBytesAreExact() {
        let exchange = NTSKEClientExchange()
        #expect(exchange.request == [0x80, 0x01, 0x00, 0x02, 0x00, 0x00,
                                     0x80, 0x04, 0x00, 0x04, 0x00, 0x0F, 0x00, 0x11,
                                     0x80, 0x00, 0x00, 0x00])
    }

    @Test func messageRoundTripsThroughTheDecoder() throws {
        let records: [NTSKERecord] = [.nextProtocols([0]), .aeadAlgorithms([15]), .newCookie([1, 2, 3]),
                                      NTSKERecord(isCritical: false, type: 0x4321, body: [9]), .port(123), .endOfMessage]
        let bytes = try #require(records.serializedNTSKEMessage())
        #expect(try NTSKEMessageDecoder.decodeMessage(bytes) == records)
    }

    @Test func decoderReassemblesByteByByte() throws {
        let bytes = NTSKEClientExchange().request
        var decoder = NTSKEMessageDecoder()
        for (index, byte) in bytes.enumerated() {
            let result = try decoder.receive([byte])
            #expect((result != nil) == (index == bytes.count - 1))
        }
        #expect(decoder.isComplete)
        #expect(throws: NTSKERecordError.dataAfterEndOfMessage(count: 1)) { try decoder.receive([0]) }
    }

    @Test func malformedInputsAreTypedErrors() {
        #expect(throws: NTSKERecordError.missingEndOfMessage) { try NTSKEMessageDecoder.decodeMessage([]) }
        #expect(throws: NTSKERecordError.missingEndOfMessage) { try NTSKEMessageDecoder.decodeMessage([0x80, 1, 0, 2, 0, 0]) }
        #expect(throws: NTSKERecordError.truncatedHeader(offset: 0, available: 3)) { try NTSKEMessageDecoder.decodeMessage([0x80, 0, 0]) }
        #expect(throws: NTSKERecordError.truncatedBody(offset: 0, type: 1, declaredLength: 2, available: 1)) {
            try NTSKEMessageDecoder.decodeMessage([0x80, 1, 0, 2, 0])
        }
        #expect(throws: NTSKERecordError.endOfMessageWithBody(offset: 0, length: 1)) { try NTSKEMessageDecoder.decodeMessage([0x80, 0, 0, 1, 0]) }
        #expect(throws: NTSKERecordError.dataAfterEndOfMessage(count: 2)) { try NTSKEMessageDecoder.decodeMessage([0x80, 0, 0, 0, 1, 2]) }
        #expect(throws: NTSKERecordError.bodyTooLong(offset: 0, type: 5, length: 1025, limit: 1024)) {
            try NTSKEMessageDecoder.decodeMessage([0, 5, 0x04, 0x01])
        }
    }

    @Test func messageAndRecordCountLimits() throws {
        let cookie = NTSKERecord.newCookie([UInt8](repeating: 0xAB, count: 1000))
        let big = [NTSKERecord](repeating: cookie, count: 17).serializedNTSKEMessage() ?? []
        #expect(throws: NTSKERecordError.messageTooLong(limit: 16384)) { try NTSKEMessageDecoder.decodeMessage(big) }
        var decoder = NTSKEMessageDecoder()
        #expect(throws: NTSKERecordError.messageTooLong(limit: 16384)) {
            let chunk: [UInt8] = [0x00, 0x63, 0x03, 0xE4] + [UInt8](repeating: 0, count: 996)
            for _ in 0..<20 { _ = try decoder.receive(chunk) }
        }
        let many = [NTSKERecord](repeating: NTSKERecord(isCritical: false, type: 99), count: 129).serializedNTSKEMessage() ?? []
        #expect(throws: NTSKERecordError.tooManyRecords(limit: 128)) { try NTSKEMessageDecoder.decodeMessage(many) }
    }
}
