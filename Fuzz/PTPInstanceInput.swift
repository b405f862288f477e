// libFuzzer target: a PTP instance must survive any sequence of datagrams, transmit timestamps
// and timer expiries without trapping. The input is a list of records
// [kind][length][payload…]; the instance starts as a slave whose master (clock 0x11, port 1)
// has already been selected, so Sync/Follow_Up/Delay_Resp paths are reachable.
import PendulumPTP
import PendulumTime

private func timestamp(_ bytes: ArraySlice<UInt8>) -> PTPTimestamp {
    var value: UInt64 = 0
    for byte in bytes.prefix(8) { value = value << 8 | UInt64(byte) }
    return PTPTimestamp(seconds: value >> 30, nanoseconds: UInt32(truncatingIfNeeded: value & 0x3FFF_FFFF))
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPTPInstanceInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let mechanism: DelayMechanism = bytes.first.map { $0 & 1 == 0 } ?? true ? .e2e : .p2p
    var instance = PTPInstance(
        defaults: DefaultDataset(clockIdentity: ClockIdentity(rawValue: 0xAA), slaveOnly: bytes.first.map { $0 & 2 == 0 } ?? true),
        ports: [PTPPortConfiguration(portNumber: 1, delayMechanism: mechanism)])
    var now = PTPInstant.zero
    _ = instance.start(at: now)
    let master = PortIdentity(clockIdentity: ClockIdentity(rawValue: 0x11), portNumber: 1)
    let announce = PTPAnnounceBody(currentUtcOffset: 37, grandmasterPriority1: 128, grandmasterClockQuality: ClockQuality(clockClass: 6),
                                   grandmasterPriority2: 128, grandmasterIdentity: master.clockIdentity, stepsRemoved: 0,
                                   timeSource: TimeSource.gnss)
    for sequence in 0..<2 as Range<UInt16> {
        let message = PTPMessage(.announce(announce), source: master, sequenceId: sequence, domainNumber: 0,
                                 intervals: PTPLogIntervals())
        _ = instance.receive(message.serialized(), onPort: 1, ingress: nil, at: now)
        now = now + .seconds(1)
    }

    var position = 1
    while position + 2 <= bytes.count {
        let kind = bytes[position]
        let length = Int(bytes[position + 1])
        let start = position + 2
        let end = Swift.min(bytes.count, start + length)
        let payload = bytes[start..<end]
        position = end
        now = now + .milliseconds(Int64(kind >> 2))
        switch kind & 3 {
        case 0:
            _ = instance.receive(Array(payload.dropFirst(8)), onPort: 1, ingress: timestamp(payload), at: now)
        case 1:
            _ = instance.receive(Array(payload), onPort: UInt16(kind >> 7), ingress: nil, at: now)
        case 2:
            let timers: [PTPTimer] = [.announceReceipt, .announceTransmit, .syncTransmit, .delayRequest, .peerDelayRequest, .qualification]
            _ = instance.timerExpired(timers[Int(kind >> 2) % timers.count], port: 1, at: now)
        default:
            let types = PTPMessageType.allCases
            let type = types[Int(payload.first ?? 0) % types.count]
            let sequenceId = UInt16(payload.dropFirst().first ?? 0)
            _ = instance.transmitted(port: 1, messageType: type, sequenceId: sequenceId, egress: timestamp(payload.dropFirst(2)), at: now)
        }
    }
    return 0
}
