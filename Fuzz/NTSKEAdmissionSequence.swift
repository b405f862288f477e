// libFuzzer target: NTS-KE admission under any sequence of accepts, phase changes, closes,
// deadline sweeps and sheds keeps its books: never more connections than the limit, never an
// answering connection shed, and exactly the connections a caller would think it holds.
// NTSKEAdmission.swift is compiled into this fuzzer (see Fuzz/targets.txt).
import PendulumNTPServer

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNTSKEAdmissionSequence(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    guard bytes.count >= 2 else { return 0 }
    let limits = NTSKEAdmission.Limits(
        total: Int(bytes[0] % 16) + 1, perAddress: Int(bytes[1] % 4) + 1, perPrefix: Int(bytes[1] >> 4) + 1,
        helloNanoseconds: 20, handshakeNanoseconds: 30, requestNanoseconds: 25, connectionNanoseconds: 60,
        prefixRateIntervalNanoseconds: 5, prefixRateBurst: 3, abandonedCost: Int64(bytes[0] >> 4)
    )
    var admission = NTSKEAdmission(limits: limits)
    var held: [NTSKEAdmission.ConnectionID: NTSKEAdmission.Phase] = [:]
    var now: Int64 = 0
    var index = 2
    while index + 2 < bytes.count {
        let operation = bytes[index]
        let id = NTSKEAdmission.ConnectionID(bytes[index + 1] % 32)
        let argument = bytes[index + 2]
        index += 3
        now += Int64(operation >> 4)
        switch operation % 5 {
        case 0:
            held[id] = nil
            let address = ClientAddress(bytes: [10, argument >> 6, (argument >> 3) & 7, argument & 7]) ?? ClientAddress(high: 0, low: 0, isIPv4: true)
            if case .admitted(let shed) = admission.admit(id, from: address, now: now) {
                for victim in shed {
                    precondition(held[victim] != nil && held[victim] != .answering, "shed \(victim), which was not sheddable")
                    held[victim] = nil
                }
                held[id] = .awaitingHello
            }
        case 1:
            let phase = NTSKEAdmission.Phase.allCases[Int(argument) % NTSKEAdmission.Phase.allCases.count]
            admission.entered(phase, connection: id, now: now)
            if let current = held[id], NTSKEAdmission.rank(phase) > NTSKEAdmission.rank(current) { held[id] = phase }
        case 2:
            admission.closed(id, now: now)
            held[id] = nil
        case 3:
            for expiry in admission.expire(now: now) {
                precondition(held[expiry.connection] == expiry.phase, "expired a connection in the wrong phase")
                held[expiry.connection] = nil
            }
        default:
            for victim in admission.shedLongestStalled(limit: Int(argument % 4), now: now) {
                precondition(held[victim] != nil && held[victim] != .answering, "shed \(victim), which was not sheddable")
                held[victim] = nil
            }
        }
        precondition(admission.count <= limits.total, "holding \(admission.count) over the limit \(limits.total)")
        precondition(admission.count == held.count, "holding \(admission.count), the caller thinks \(held.count)")
        for (connection, phase) in held { precondition(admission.phase(of: connection) == phase, "phase of \(connection) differs") }
    }
    return 0
}
