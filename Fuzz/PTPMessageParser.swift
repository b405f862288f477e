// libFuzzer target: the PTP message parser must be total (throw, never trap) and every message
// it accepts must serialise back to exactly the messageLength bytes it was parsed from (bytes
// after messageLength are link padding and not part of the message).
import PendulumPTP

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPTPMessageParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let message = try? PTPMessage(parsing: bytes) else { return 0 }
    let reserialised = message.serialized()
    precondition(reserialised.count == message.encodedByteCount, "encodedByteCount disagrees with serialisation")
    precondition(reserialised[...] == bytes.prefix(reserialised.count), "accepted message does not round-trip")
    precondition(reserialised.count == Int(bytes[2]) << 8 | Int(bytes[3]), "length differs from messageLength")
    guard let again = try? PTPMessage(parsing: reserialised), again == message else {
        preconditionFailure("serialised message does not parse to the same value")
    }
    _ = message.body.timestamps.map { $0.isValid }
    return 0
}
