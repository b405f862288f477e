import Testing
import PendulumTime

@Suite struct PTPTimeIntervalTests {
    @Test func nanosecondsScaleBy65536() {
        #expect(PTPTimeInterval.nanoseconds(1).scaledNanoseconds == 65_536)
        #expect(PTPTimeInterval.nanoseconds(-3).scaledNanoseconds == -196_608)
        #expect(PTPTimeInterval.seconds(1).scaledNanoseconds == 65_536_000_000_000)
    }

    @Test func saturatesInsteadOfTrapping() {
        #expect(PTPTimeInterval.nanoseconds(.max) == .max)
        #expect(PTPTimeInterval.nanoseconds(.min) == .min)
        #expect(PTPTimeInterval.seconds(200_000) == .max)  // beyond ±39 h
        #expect(PTPTimeInterval.max + .nanoseconds(1) == .max)
        #expect(PTPTimeInterval.min - .nanoseconds(1) == .min)
        #expect(-PTPTimeInterval.min == .max)
        #expect(PTPTimeInterval.min.magnitude == .max)
        #expect(PTPTimeInterval.max.isSaturated)
    }

    @Test func roundingOfSubNanoseconds() {
        let value = PTPTimeInterval(scaledNanoseconds: 10 * 65_536 + 0x8000)
        #expect(value.wholeNanoseconds == 10)
        #expect(value.roundedNanoseconds == 11)
        let negative = PTPTimeInterval(scaledNanoseconds: -(10 * 65_536) - 1)
        #expect(negative.wholeNanoseconds == -11)
        #expect(negative.roundedNanoseconds == -10)
        #expect(PTPTimeInterval(scaledNanoseconds: 3).halved.scaledNanoseconds == 1)
    }

    @Test func ntpDurationConversionIsExactWhereBothCan() {
        #expect(PTPTimeInterval.seconds(1).ntpDuration == .seconds(1))
        #expect(PTPTimeInterval.seconds(-5).ntpDuration == .seconds(-5))
        #expect(PTPTimeInterval(.seconds(2)) == .seconds(2))
        #expect(PTPTimeInterval(.milliseconds(-250)) == .milliseconds(-250))
        // 1 ns is not a whole number of 2⁻³² s units; the round trip stays within one unit.
        let back = PTPTimeInterval(PTPTimeInterval.nanoseconds(1).ntpDuration)
        #expect((back - .nanoseconds(1)).magnitude.scaledNanoseconds <= 65_536 / 4)
        #expect(PTPTimeInterval.nanoseconds(1_500).ntpDuration.nanoseconds == 1_500)
        #expect(PTPTimeInterval(NTPDuration.max) == .max)
    }
}

@Suite struct PTPTimestampTests {
    @Test func validity() {
        #expect(PTPTimestamp(seconds: 1, nanoseconds: 999_999_999).isValid)
        #expect(!PTPTimestamp(seconds: 1, nanoseconds: 1_000_000_000).isValid)
        #expect(!PTPTimestamp(seconds: 1 << 48, nanoseconds: 0).isValid)
    }

    @Test func unixTimeRoundTrip() {
        let time = UnixTime(seconds: 1_764_000_000, nanoseconds: 123_456_789)
        let stamp = PTPTimestamp(time)
        #expect(stamp.seconds == 1_764_000_000 && stamp.nanoseconds == 123_456_789)
        #expect(stamp.unixTime == time)
        #expect(PTPTimestamp(UnixTime(seconds: -1)) == .zero)
        #expect(PTPTimestamp(UnixTime(seconds: .max)).seconds == PTPTimestamp.maximumSeconds)
    }

    @Test func taiUtcOffset() {
        let utc = UnixTime(seconds: 1_764_000_000, nanoseconds: 5)
        let tai = PTPTimestamp(utc: utc, currentUtcOffset: 37)
        #expect(tai.seconds == 1_764_000_037 && tai.nanoseconds == 5)
        #expect(tai.utc(currentUtcOffset: 37) == utc)
    }

    @Test func differencesAcrossSecondBoundaries() {
        let a = PTPTimestamp(seconds: 10, nanoseconds: 100)
        let b = PTPTimestamp(seconds: 9, nanoseconds: 999_999_900)
        #expect(a.nanoseconds(since: b) == 200)
        #expect(b.nanoseconds(since: a) == -200)
        #expect(a - b == .nanoseconds(200))
        #expect(a.duration(since: b) == .nanoseconds(200))
        let far = PTPTimestamp(seconds: PTPTimestamp.maximumSeconds, nanoseconds: 0)
        #expect(far.nanoseconds(since: .zero) == .max)
        #expect(PTPTimestamp.zero.nanoseconds(since: far) == .min)
        #expect(far - .zero == .max)
    }

    @Test func addingIntervalsCarriesAndClamps() {
        let a = PTPTimestamp(seconds: 10, nanoseconds: 999_999_999)
        #expect(a + .nanoseconds(1) == PTPTimestamp(seconds: 11, nanoseconds: 0))
        #expect(a - .seconds(11) == .zero)
        #expect(PTPTimestamp(seconds: 1, nanoseconds: 0) - .nanoseconds(1) == PTPTimestamp(seconds: 0, nanoseconds: 999_999_999))
        // Sub-nanosecond parts round toward negative infinity.
        #expect(PTPTimestamp(seconds: 1, nanoseconds: 0) + PTPTimeInterval(scaledNanoseconds: -1)
            == PTPTimestamp(seconds: 0, nanoseconds: 999_999_999))
        #expect(PTPTimestamp.zero.totalNanoseconds == 0)
        #expect(a.totalNanoseconds == 10_999_999_999)
    }
}
