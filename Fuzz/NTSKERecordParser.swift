// libFuzzer target: the NTS-KE record decoder must be total, every message it accepts must
// serialise back to exactly its input, chunked delivery must agree with one-shot decoding, and
// the client and server interpreters must handle any accepted message without trapping.
// The same bytes also exercise the key-log line reader.
import PendulumNTS

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNTSKERecordParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let oneShot = Result { () throws(NTSKERecordError) in try NTSKEMessageDecoder.decodeMessage(bytes) }

    // The same bytes in two chunks split at a position the input chooses.
    var decoder = NTSKEMessageDecoder()
    let split = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
    let chunked = Result { () throws(NTSKERecordError) -> [NTSKERecord] in
        if let records = try decoder.receive(bytes[..<split]) {
            guard split == bytes.count else { throw .dataAfterEndOfMessage(count: bytes.count - split) }
            return records
        }
        if let records = try decoder.receive(bytes[split...]) { return records }
        return try decoder.finish()
    }
    if case .success(let records) = oneShot {
        precondition(records.serializedNTSKEMessage() == bytes, "accepted message does not round-trip")
        precondition((try? chunked.get()) == records, "chunked decoding disagrees")
        _ = try? NTSKEClientExchange.interpret(records, offered: AEADAlgorithm.allCases)
        _ = NTSKEServerNegotiation().evaluate(records)
    } else {
        precondition((try? chunked.get()) == nil, "chunked decoding accepted what one-shot refused")
    }
    _ = NTSKEServerNegotiation().evaluate(requestBytes: bytes)
    // Key-log lines come from the TLS library, but the reader is total all the same.
    if let secret = TLSKeyLog.exporterSecret(fromLine: bytes) { precondition(!secret.isEmpty) }
    return 0
}
