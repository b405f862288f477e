import PendulumDiscipline
import PendulumTime

/// leap-seconds.list comes from a package or an operator's copy and is read at every start:
/// whatever it holds must be refused cleanly, and a list that is accepted must be one the
/// policy can ask any question of without trapping.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let list = try? LeapSecondsList(parsing: text) else { return 0 }
    let table = list.table
    precondition(!table.entries.isEmpty && table.expiry > table.lastUpdate)
    for (previous, entry) in zip(table.entries, table.entries.dropFirst()) {
        precondition(entry.start > previous.start && abs(entry.taiOffset - previous.taiOffset) == 1)
    }
    for probe in [table.entries[0].start - 1, table.entries[0].start, table.expiry - 1, table.expiry, Int64.min, Int64.max] {
        _ = table.taiOffset(at: probe)
        for vote in [LeapIndicator.none, .insertSecond, .deleteSecond, .unsynchronized] {
            _ = LeapSecondPolicy.decide(announced: vote, at: probe, table: table)
        }
    }
    return 0
}
