// libFuzzer target: the NTP packet parser must be total (throw, never trap) and every packet it
// accepts must serialise back to exactly the bytes it was parsed from.
import PendulumNTP

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNTPPacketParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let packet = try? NTPPacket(parsing: bytes) else { return 0 }
    let reserialised = packet.serialized()
    precondition(reserialised == bytes, "accepted packet does not round-trip")
    precondition(packet.encodedByteCount == bytes.count, "encodedByteCount disagrees with serialisation")
    return 0
}
