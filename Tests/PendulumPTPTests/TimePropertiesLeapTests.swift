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
