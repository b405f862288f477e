// libFuzzer target: the discipline takes offsets, delays and header fields straight from
// network packets, so no sequence of them may trap it, and whatever it decides must stay sane:
// finite frequencies within the configured bound, no steps while the panic threshold refuses.
import PendulumDiscipline
import PendulumTime

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzClockDisciplineFeed(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var configuration = DisciplineConfiguration()
    configuration.startupPanicThreshold = 1000
    var discipline = ClockDiscipline(configuration: configuration)
    for index in 0..<4 { discipline.addSource(SourceID(index)) }
    var clock = NTPTimestamp(seconds: 3_900_000_000, fraction: 0)
    var cursor = 0
    func take(_ count: Int) -> UInt64? {
        guard cursor + count <= bytes.count else { return nil }
        var value: UInt64 = 0
        for byte in bytes[cursor..<cursor + count] { value = value << 8 | UInt64(byte) }
        cursor += count
        return value
    }
    func check(_ update: DisciplineUpdate) {
        for action in update.actions {
            switch action {
            case .setFrequency(let value):
                precondition(value.isFinite && abs(value) <= configuration.maximumFrequency, "frequency \(value)")
            case .step(let amount):
                precondition(abs(amount.seconds) <= 1000.001, "step beyond the panic threshold")
                clock = clock + amount
            case .setLeap, .setTAIOffset:
                break
            }
        }
    }
    // Each record: op(1: bit 0 poll sent, bit 1 interleaved, bit 2 local clock moved) source(1) offset(8) delay(4) advance(4) stratum(1) leap(1) root(4).
    while let op = take(1), let source = take(1), let offset = take(8), let delay = take(4),
        let advance = take(4), let stratum = take(1), let leap = take(1), let root = take(4)
    {
        let id = SourceID(Int(source % 5))  // 4 is unknown on purpose
        clock = clock + NTPDuration(rawValue: Int64(advance))
        if op & 1 == 1 {
            discipline.pollSent(to: id)
            continue
        }
        // op bit 2: the shell reports the local clock moved by someone else, by `offset`. The
        // panic threshold must hold all the same.
        if op & 4 == 4 {
            let moved = NTPDuration(rawValue: Int64(bitPattern: offset))
            clock = clock + moved
            check(discipline.localClockMoved(by: moved.seconds, at: clock))
            continue
        }
        let measurement = Measurement(
            offset: NTPDuration(rawValue: Int64(bitPattern: offset)),
            delay: NTPDuration(rawValue: Int64(Int32(truncatingIfNeeded: delay))),
            localTime: clock,
            rootDelay: NTPShort(rawValue: UInt32(root >> 16)), rootDispersion: NTPShort(rawValue: UInt32(root & 0xFFFF)),
            stratum: UInt8(stratum), leap: LeapIndicator(rawValue: UInt8(leap & 3)) ?? .none
        )
        // op bit 1: the sample completes an earlier exchange (interleaved) and the actions are
        // applied later, at `clock` plus the advance again.
        let update = op & 2 == 2
            ? discipline.handle(measurement, from: id, at: clock + NTPDuration(rawValue: Int64(advance)))
            : discipline.handle(measurement, from: id)
        check(update)
        precondition(update.nextPollInterval >= .zero)
    }
    return 0
}
