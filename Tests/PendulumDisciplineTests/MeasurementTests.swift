import PendulumTime
import Testing

@testable import PendulumDiscipline

@Suite struct MeasurementTests {
    @Test func offsetAndDelayFollowRFC5905InIntegers() {
        let t1 = NTPTimestamp(seconds: 3_900_000_000, fraction: 0)
        // Server 5 ms ahead; 2 ms up, 1 ms processing, 4 ms down.
        let t2 = t1 + .milliseconds(7)
        let t3 = t2 + .milliseconds(1)
        let t4 = t1 + .milliseconds(7)
        let measurement = Measurement(t1: t1, t2: t2, t3: t3, t4: t4)
        #expect(measurement.delay == .milliseconds(6))
        // ((7) + (8 − 7)) / 2 = 4 ms: the 2 ms path asymmetry shows up as −1 ms of offset error.
        #expect(measurement.offset == .milliseconds(4))
        #expect(measurement.localTime == t4)
    }

    @Test func eraWrapDoesNotDisturbTheArithmetic() {
        let t1 = NTPTimestamp(rawValue: UInt64.max - (1 << 31))  // half a second before the era ends
        let t2 = t1 + .seconds(1)
        let t3 = t2
        let t4 = t1 + .milliseconds(2)
        let measurement = Measurement(t1: t1, t2: t2, t3: t3, t4: t4)
        #expect(measurement.delay == .milliseconds(2))
        #expect(abs(measurement.offset.seconds - 0.999) < 1e-9)
    }
}
