import PendulumDiscipline
import Testing

@Suite struct DriftRecordTests {
    @Test func roundTripsThroughItsText() throws {
        let record = DriftRecord(frequency: -7.103957e-6, uncertainty: 0.430358e-6)
        #expect(record.text == "-7.103957 0.430358\n")
        let read = try DriftRecord(parsing: record.text)
        #expect(abs(read.frequency - record.frequency) < 1e-12 && abs(read.uncertainty - record.uncertainty) < 1e-12)
        #expect(DriftRecord(frequency: 0.5e-6, uncertainty: 0).text == "0.500000 0.000000\n")
        // chrony's driftfile has the same shape.
        #expect(try DriftRecord(parsing: "  12.25\t0.5 \n").frequency == 12.25e-6)
    }

    @Test(arguments: [
        ("", "expected two numbers, found 0 fields"),
        ("1.0", "expected two numbers, found 1 fields"),
        ("1 2 3", "expected two numbers, found 3 fields"),
        ("nan 1", "frequency nan is not a number"),
        ("1 -1", "uncertainty -1 is not a non-negative number"),
        ("inf 0", "frequency inf is not a number"),
        ("600 1", "frequency 600.0 ppm is beyond the kernel's ±500 ppm"),
        ("x\u{0} 1", "frequency x\u{0} is not a number"),
    ])
    func refusesWhatIsNotADriftFile(text: String, why: String) {
        #expect(throws: DriftFileError.self) { try DriftRecord(parsing: text) }
        do {
            _ = try DriftRecord(parsing: text)
        } catch {
            #expect(error.description == why)
        }
    }

    @Test func refusesALongFile() {
        #expect(throws: DriftFileError.tooLong(300)) { try DriftRecord(parsing: String(repeating: "1", count: 300)) }
    }
}
