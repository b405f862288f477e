import PendulumTime
import Testing
@testable import Pendulum

struct AgreementSelectionTests {
    private func interval(_ offsetMilliseconds: Int64, _ halfWidthMilliseconds: Int64) -> AgreementSelection.Interval {
        AgreementSelection.Interval(offset: .milliseconds(offsetMilliseconds), halfWidth: .milliseconds(halfWidthMilliseconds))
    }

    @Test func oneServerASecondOffIsOutvotedByTwoThatAgree() throws {
        let selection = try #require(AgreementSelection.select([interval(1, 2), interval(1000, 2), interval(2, 2)]))
        #expect(selection.agreeing == [0, 2])
        #expect(selection.low == .milliseconds(0) && selection.high == .milliseconds(3))
    }

    @Test func touchingIntervalsAgreeAndTheCommonIntervalIsTheirIntersection() throws {
        // Whole seconds: exact in NTP's 2^-32 s units, so the two really touch.
        let left = AgreementSelection.Interval(offset: .seconds(0), halfWidth: .seconds(1))
        let right = AgreementSelection.Interval(offset: .seconds(2), halfWidth: .seconds(1))
        let selection = try #require(AgreementSelection.select([left, right]))
        #expect(selection.agreeing == [0, 1])
        #expect(selection.low == .seconds(1) && selection.high == .seconds(1))
    }

    @Test func withNoOverlapEveryGroupIsOneAndTheFirstInOffsetOrderIsTaken() throws {
        let selection = try #require(AgreementSelection.select([interval(50, 1), interval(-50, 1), interval(0, 1)]))
        #expect(selection.agreeing == [1])
    }

    @Test func aWideIntervalJoinsWhicheverGroupItCovers() throws {
        // 0 and 10 do not overlap each other, but the wide one covers both: two groups of two;
        // the first in offset order wins.
        let selection = try #require(AgreementSelection.select([interval(0, 1), interval(10, 1), interval(5, 10)]))
        #expect(selection.agreeing == [0, 2])
        #expect(selection.low == .milliseconds(-1) && selection.high == .milliseconds(1))
    }

    @Test func nothingToSelectFromIsNil() {
        #expect(AgreementSelection.select([]) == nil)
    }

    @Test func absurdValuesSaturateInsteadOfWrapping() throws {
        let huge = AgreementSelection.Interval(offset: .max, halfWidth: .max)
        let selection = try #require(AgreementSelection.select([huge, huge, interval(0, 1)]))
        #expect(selection.agreeing == [0, 1, 2])
        #expect(selection.low <= selection.high)
    }
}
