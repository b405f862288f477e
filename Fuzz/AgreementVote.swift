// libFuzzer target: the agreement vote over servers' correctness intervals (any offsets and
// widths a server's answer can produce, absurd ones included) never traps, and its answer is
// a true maximum: every member covers the common interval, and no point is covered by more
// intervals than the group has members.
// AgreementSelection.swift is compiled into this fuzzer (see Fuzz/targets.txt).
import PendulumTime

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAgreementVote(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    var intervals: [AgreementSelection.Interval] = []
    var index = 0
    while index + 16 <= bytes.count, intervals.count < 16 {
        var offset: Int64 = 0
        var width: Int64 = 0
        for byte in 0..<8 {
            offset = offset << 8 | Int64(bytes[index + byte])
            width = width << 8 | Int64(bytes[index + 8 + byte])
        }
        // Small values too, so that intervals overlap often.
        if width & 1 == 0 { offset >>= 40 }
        intervals.append(AgreementSelection.Interval(offset: NTPDuration(rawValue: offset), halfWidth: NTPDuration(rawValue: width == .min ? 0 : abs(width) >> (width & 2 == 0 ? 36 : 0))))
        index += 16
    }
    guard let selection = AgreementSelection.select(intervals) else {
        precondition(intervals.isEmpty, "no selection from \(intervals.count) intervals")
        return 0
    }
    precondition(!selection.agreeing.isEmpty && selection.low <= selection.high)
    for member in selection.agreeing {
        precondition(intervals[member].low <= selection.low && intervals[member].high >= selection.high, "a member does not cover the common interval")
    }
    for point in intervals.flatMap({ [$0.low, $0.high] }) {
        let covering = intervals.filter { $0.low <= point && point <= $0.high }.count
        precondition(covering <= selection.agreeing.count, "a point covered by \(covering) intervals, the group has \(selection.agreeing.count)")
    }
    return 0
}
