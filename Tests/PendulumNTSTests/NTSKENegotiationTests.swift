import Testing
@testable import PendulumNTS

@Suite struct NTSKENegotiationTests {
    let cookies = (0..<8).map { [UInt8](repeating: UInt8($0), count: 64) }

    @Test func clientAndServerAgreeEndToEnd() throws {
        var client = NTSKEClientExchange()
        let server = NTSKEServerNegotiation(ntpServer: "time.example", ntpPort: 11123)
        guard case .agreed(let agreement) = server.evaluate(requestBytes: client.request) else {
            Issue.record("server refused the standard request"); return
        }
        #expect(agreement == NTSKEAgreement(nextProtocol: 0, aead: .aesSIVCMAC256))
        let response = server.response(for: agreement, cookies: cookies)
        let result = try #require(try client.receive(response))
        #expect(result == NTSKEClientResult(nextProtocol: 0, aead: .aesSIVCMAC256, cookies: cookies, server: "time.example", port: 11123))
    }

    @Test func serverHonoursClientPreferenceAmongSupported() {
        let client = NTSKEClientExchange(offering: [.aesSIVCMAC512, .aesSIVCMAC256])
        #expect(NTSKEServerNegotiation().evaluate(requestBytes: client.request) == .agreed(NTSKEAgreement(nextProtocol: 0, aead: .aesSIVCMAC512)))
        let only256 = NTSKEServerNegotiation(supportedAlgorithms: [.aesSIVCMAC256])
        #expect(only256.evaluate(requestBytes: client.request) == .agreed(NTSKEAgreement(nextProtocol: 0, aead: .aesSIVCMAC256)))
    }

    @Test func serverRefusalsCarryTheRightRecords() throws {
        let server = NTSKEServerNegotiation()
        func problem(_ records: [NTSKERecord]) -> NTSKERequestProblem? {
            if case .refuse(_, let problem) = server.evaluate(records) { return problem }
            return nil
        }
        #expect(problem([.aeadAlgorithms([15]), .endOfMessage]) == .missingNextProtocol)
        #expect(problem([.nextProtocols([0]), .endOfMessage]) == .missingAEAD)
        #expect(problem([.nextProtocols([0]), .nextProtocols([0]), .aeadAlgorithms([15]), .endOfMessage]) == .duplicateRecord(type: 1))
        #expect(problem([NTSKERecord(isCritical: true, type: 1, body: [0]), .aeadAlgorithms([15]), .endOfMessage]) == .malformedRecord(type: 1, length: 1))
        #expect(problem([.nextProtocols([0]), .aeadAlgorithms([15]), NTSKERecord(isCritical: true, type: 999), .endOfMessage]) == .unrecognizedCriticalRecord(type: 999))
        #expect(problem([.nextProtocols([0]), .aeadAlgorithms([15]), NTSKERecord(isCritical: false, type: 999), .endOfMessage]) == nil)
        #expect(problem([.nextProtocols([0]), .aeadAlgorithms([15]), .error(.badRequest), .endOfMessage]) == .unexpectedRecord(type: 2))
        #expect(problem([.nextProtocols([0x8000]), .aeadAlgorithms([15]), .endOfMessage]) == .noCommonProtocol)
        #expect(problem([.nextProtocols([0]), .aeadAlgorithms([30, 1]), .endOfMessage]) == .noCommonAEAD)

        guard case .refuse(let response, _) = server.evaluate([.nextProtocols([0]), NTSKERecord(isCritical: true, type: 999), .endOfMessage]) else { return }
        #expect(response == [0x80, 0x02, 0x00, 0x02, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00])
        guard case .refuse(let garbage, .record) = server.evaluate(requestBytes: [1, 2, 3]) else { Issue.record("garbage accepted"); return }
        #expect(try NTSKEMessageDecoder.decodeMessage(garbage) == [.error(.badRequest), .endOfMessage])
    }

    @Test func clientRejectsBadResponses() {
        func outcome(_ records: [NTSKERecord]) -> NTSKEClientError? {
            do { _ = try NTSKEClientExchange.interpret(records, offered: [.aesSIVCMAC256]); return nil } catch { return error }
        }
        let good: [NTSKERecord] = [.nextProtocols([0]), .aeadAlgorithms([15]), .newCookie([1])]
        #expect(outcome(good + [.endOfMessage]) == nil)
        #expect(outcome([.error(.internalServerError), .endOfMessage]) == .serverError(.internalServerError))
        #expect(outcome(good + [.warning(7), .endOfMessage]) == .serverWarning(7))
        #expect(outcome([.aeadAlgorithms([15]), .newCookie([1]), .endOfMessage]) == .missingNextProtocol)
        #expect(outcome([.nextProtocols([]), .endOfMessage]) == .noCommonProtocol)
        #expect(outcome([.nextProtocols([0, 1]), .aeadAlgorithms([15]), .newCookie([1]), .endOfMessage]) == .unexpectedProtocol([0, 1]))
        #expect(outcome([.nextProtocols([0]), .newCookie([1]), .endOfMessage]) == .missingAEAD)
        #expect(outcome([.nextProtocols([0]), .aeadAlgorithms([]), .endOfMessage]) == .noCommonAEAD)
        #expect(outcome([.nextProtocols([0]), .aeadAlgorithms([17]), .newCookie([1]), .endOfMessage]) == .unexpectedAEAD([17]))
        #expect(outcome([.nextProtocols([0]), .aeadAlgorithms([15]), .endOfMessage]) == .noCookies)
        #expect(outcome(good + [.newCookie([]), .endOfMessage]) == .malformedRecord(type: 5, length: 0))
        #expect(outcome(good + [NTSKERecord(isCritical: true, type: 7, body: [1]), .endOfMessage]) == .malformedRecord(type: 7, length: 1))
        #expect(outcome(good + [.server("bad host"), .endOfMessage]) == .malformedRecord(type: 6, length: 8))
        #expect(outcome(good + [.port(1), .port(2), .endOfMessage]) == .duplicateRecord(type: 7))
        #expect(outcome(good + [NTSKERecord(isCritical: true, type: 1234), .endOfMessage]) == .unrecognizedCriticalRecord(type: 1234))
        #expect(outcome(good + [NTSKERecord(isCritical: false, type: 1234), .endOfMessage]) == nil)
    }

    @Test func clientReportsTruncatedStream() throws {
        var client = NTSKEClientExchange()
        let response = NTSKEServerNegotiation().response(for: NTSKEAgreement(nextProtocol: 0, aead: .aesSIVCMAC256), cookies: cookies)
        #expect(try client.receive(response.dropLast(2)) == nil)
        #expect(throws: NTSKEClientError.record(.truncatedHeader(offset: response.count - 4, available: 2))) { try client.finish() }
    }
}
