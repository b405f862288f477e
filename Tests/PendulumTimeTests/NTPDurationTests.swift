import Testing
@testable import PendulumTime

@Suite struct NTPDurationTests {
    @Test func nanosecondConversionsRoundTrip() {
        for count: Int64 in [0, 1, -1, 999, -999_999_999, 1_000_000_000, -1_500_000_001, 86_400_000_000_123] {
            #expect(NTPDuration.nanoseconds(count).nanoseconds == count, "\(count)")
        }
    }

    @Test func negativeDurationsFloorCorrectly() {
        let value = NTPDuration.milliseconds(-1500)
        #expect(value.seconds == -1.5)
        #expect(value.description == "-1.500000000")
        #expect(NTPDuration.nanoseconds(123_456).description == "+0.000123456")
    }

    @Test func arithmeticSaturatesInsteadOfTrapping() {
        #expect(NTPDuration.max + NTPDuration(rawValue: 1) == .max)
        #expect(NTPDuration.min - NTPDuration(rawValue: 1) == .min)
        #expect(-NTPDuration.min == .max)
        #expect(NTPDuration(seconds: Int64.max) == .max)
        #expect(NTPDuration.nanoseconds(.min) == .min)
        #expect(NTPDuration.min.magnitude == .max)
    }

    @Test func midpointHasNoIntermediateOverflow() {
        #expect(NTPDuration.midpoint(.max, .max) == .max)
        #expect(NTPDuration.midpoint(.min, .min) == .min)
        #expect(NTPDuration.midpoint(.max, .min).rawValue == -1 || NTPDuration.midpoint(.max, .min).rawValue == 0)
        #expect(NTPDuration.midpoint(.milliseconds(3), .milliseconds(-1)) == .milliseconds(1))
    }

    @Test func approximateSecondsHandlesNonFiniteInput() {
        #expect(NTPDuration(approximateSeconds: .nan) == .zero)
        #expect(NTPDuration(approximateSeconds: .infinity) == .max)
        #expect(NTPDuration(approximateSeconds: -.infinity) == .min)
        #expect(NTPDuration(approximateSeconds: 0.25).rawValue == 1 << 30)
    }

    @Test func shortFormatRoundsDispersionUp() {
        #expect(NTPShort(roundingUp: NTPDuration(rawValue: 1)).rawValue == 1)
        #expect(NTPShort(roundingUp: NTPDuration(rawValue: -5)).rawValue == 0)
        #expect(NTPShort(roundingUp: NTPDuration(seconds: 1)).rawValue == 0x1_0000)
        #expect(NTPShort(roundingUp: NTPDuration(seconds: 70_000)) == .max)
        #expect(NTPShort(rawValue: 0x0001_8000).seconds == 1.5)
    }

    @Test func unixTimeDifferencesAndNormalisation() {
        let a = UnixTime(seconds: 10, nanoseconds: -1)
        #expect(a.seconds == 9 && a.nanoseconds == 999_999_999)
        #expect((UnixTime(seconds: 10) - a).nanoseconds == 1)
        #expect(UnixTime(seconds: .max) + NTPDuration(seconds: 10) == .distantFuture)
    }

    @Test func civilDateRoundTrips() {
        for days: Int64 in [-719_468, -1, 0, 1, 19_000, 24_143, 2_932_896] {
            let (y, m, d) = CivilDate.from(daysSinceUnixEpoch: days)
            #expect(CivilDate.daysSinceUnixEpoch(year: y, month: m, day: d) == days)
        }
    }
}
