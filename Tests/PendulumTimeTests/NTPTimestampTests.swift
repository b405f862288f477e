import Testing
@testable import PendulumTime

/// 2036-02-07T06:28:16Z: NTP era 1 begins, the 32-bit seconds field wraps to zero.
let eraOneStart = UnixTime(seconds: 2_085_978_496)

@Suite struct NTPTimestampTests {
    @Test func unixEpochIsTheKnownNTPSecond() {
        let epoch = NTPTimestamp(UnixTime(seconds: 0))
        #expect(epoch.seconds == 2_208_988_800)
        #expect(epoch.fraction == 0)
    }

    @Test func eraBoundaryWrapsSecondsToZero() {
        #expect(NTPTimestamp(eraOneStart) == NTPTimestamp(seconds: 0, fraction: 0))
        #expect(NTPTimestamp.era(of: eraOneStart) == 1)
        #expect(NTPTimestamp.era(of: eraOneStart - .nanoseconds(1)) == 0)
        #expect(eraOneStart.description == "2036-02-07T06:28:16.000000000Z")
    }

    @Test func lastInstantOfEraZero() {
        let last = eraOneStart - .nanoseconds(1)
        let wire = NTPTimestamp(last)
        #expect(wire.seconds == UInt32.max)
        #expect(wire.unixTime(era: 0) == last)
    }

    @Test func differenceAcrossTheEraBoundaryIsSmallAndSigned() {
        let before = NTPTimestamp(eraOneStart - .milliseconds(1500))
        let after = NTPTimestamp(eraOneStart + .milliseconds(500))
        #expect((after - before).nanoseconds == 2_000_000_000)
        #expect((before - after).nanoseconds == -2_000_000_000)
    }

    @Test func addingADurationWrapsIntoTheNextEra() {
        let before = NTPTimestamp(eraOneStart - .seconds(1))
        let moved = before + NTPDuration(seconds: 3)
        #expect(moved == NTPTimestamp(seconds: 2, fraction: 0))
        #expect(moved.unixTime(nearestTo: eraOneStart) == eraOneStart + NTPDuration(seconds: 2))
    }

    @Test func pivotChoosesTheEraWithinSixtyEightYears() {
        // The same wire value means 2036+ε when the local clock says 2035, and 1900+ε when it
        // says 1950.
        let wire = NTPTimestamp(seconds: 10, fraction: 0)
        let in2035 = UnixTime(seconds: 2_051_222_400)
        let in1950 = UnixTime(seconds: -631_152_000)
        #expect(wire.unixTime(nearestTo: in2035) == eraOneStart + NTPDuration(seconds: 10))
        #expect(wire.unixTime(nearestTo: in1950) == UnixTime(seconds: -2_208_988_790))
        #expect(wire.unixTime(era: 0) == UnixTime(seconds: -2_208_988_790))
    }

    @Test func sixtyEightYearAmbiguityRule() {
        // Just under 2³¹ s apart reads as positive; just over reads as negative (the other way
        // round the circle). This is RFC 5905's rule, not an error.
        let base = NTPTimestamp(seconds: 1000, fraction: 0)
        let justUnder = base + NTPDuration(rawValue: Int64.max)
        #expect((justUnder - base).rawValue == Int64.max)
        let justOver = NTPTimestamp(rawValue: base.rawValue &+ (UInt64(1) << 63))
        #expect((justOver - base).rawValue == Int64.min)
    }

    @Test func fractionRoundTripsToTheNanosecond() {
        for nanoseconds: Int64 in [0, 1, 2, 499_999_999, 500_000_000, 999_999_998, 999_999_999] {
            let time = UnixTime(seconds: 1_700_000_000, nanoseconds: nanoseconds)
            #expect(NTPTimestamp(time).unixTime(nearestTo: time) == time, "ns \(nanoseconds)")
        }
    }

    @Test func timesBeforeTheUnixEpochRoundTrip() {
        let time = UnixTime(seconds: -1, nanoseconds: 250_000_000)
        #expect(time.seconds == -1 && time.nanoseconds == 250_000_000)
        #expect(NTPTimestamp(time).unixTime(nearestTo: UnixTime(seconds: 0)) == time)
        #expect(time.description == "1969-12-31T23:59:59.250000000Z")
    }

    @Test func offsetFormulaAcrossTheEraBoundaryWithNegativeOffset() {
        // The client is 3 s behind; the exchange straddles the era wrap on the server side.
        let t1 = NTPTimestamp(eraOneStart - .seconds(5))
        let t2 = NTPTimestamp(eraOneStart - .seconds(1) - .milliseconds(1) + .milliseconds(10))
        let t3 = t2 + .milliseconds(2)
        let t4 = NTPTimestamp(eraOneStart - .seconds(5) + .milliseconds(22))
        let offset = NTPDuration.midpoint(t2 - t1, t3 - t4)
        let delay = (t4 - t1) - (t3 - t2)
        #expect(offset.nanoseconds == 3_999_000_000)
        #expect(delay.nanoseconds == 20_000_000)
    }
}
