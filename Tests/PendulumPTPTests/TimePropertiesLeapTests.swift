import PendulumPTP
import PendulumTime
import Testing

struct TimePropertiesLeapTests {
    @Test func theLeapFlagsReadAsTheOneLeapIndicator() {
        let cases: [(leap61: Bool, leap59: Bool, expected: LeapIndicator)] = [
            (false, false, .none), (true, false, .insertSecond), (false, true, .deleteSecond),
            // Both at once is no announcement a clock could carry out.
            (true, true, .none),
        ]
        for (leap61, leap59, expected) in cases {
            #expect(TimePropertiesDataset(leap59: leap59, leap61: leap61).leapIndicator == expected)
        }
    }
}

struct ClockAccuracyTests {
    @Test func announcedAccuracyCodesReadAsSeconds() {
        let cases: [(UInt8, Double?)] = [
            (0x20, 25e-9), (0x21, 100e-9), (0x23, 1e-6), (0x27, 100e-6), (0x29, 1e-3), (0x2F, 1), (0x30, 10),
            (0x31, nil), (0xFE, nil), (0x1F, nil), (0x00, nil),
        ]
        for (code, seconds) in cases {
            #expect(ClockQuality(clockAccuracy: code).accuracySeconds == seconds, "code \(code)")
        }
    }
}
