import PendulumDiscipline

/// The drift file is read at every start, possibly written by an earlier version or damaged:
/// whatever it holds must be refused cleanly, and anything accepted must be in range and
/// survive its own round trip.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let record = try? DriftRecord(parsing: text) else { return 0 }
    precondition(abs(record.frequency) <= DriftRecord.largestFrequency && record.uncertainty >= 0)
    guard let again = try? DriftRecord(parsing: record.text) else { preconditionFailure("its own text refused: \(record.text)") }
    precondition(abs(again.frequency - record.frequency) <= 1e-12)
    return 0
}
