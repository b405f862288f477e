import Testing
import PendulumTime

@testable import PendulumDiscipline

@Suite struct SourceSelectionTests {
    func candidate(_ id: Int, _ offset: Double, bound: Double = 0.001, variance: Double = 1e-8,
                   leap: LeapIndicator = .none) -> SourceCandidate {
        SourceCandidate(
            id: SourceID(id), offset: offset, variance: variance, frequency: 0, bound: bound, stratum: 1,
            leap: leap, rootDelay: 0, rootDispersion: 0, delay: 0.001
        )
    }

    @Test func oneFalsetickerAmongFourIsRejected() throws {
        let result = try #require(
            SourceSelection.select(
                [candidate(0, 0.0001), candidate(1, -0.0002), candidate(2, 1.0), candidate(3, 0.0003)],
                minimumAgreeing: 1))
        #expect(result.falsetickers == [SourceID(2)])
        #expect(Set(result.survivors) == [SourceID(0), SourceID(1), SourceID(3)])
        #expect(abs(result.offset - 0.0000667) < 1e-6)
    }

    @Test func combiningWeighsByInverseVariance() throws {
        let result = try #require(
            SourceSelection.select(
                [candidate(0, 0.0, variance: 1e-10), candidate(1, 0.0009, variance: 9e-10)], minimumAgreeing: 1))
        // Weights 10 : 1 (inverse variances 1e10 and 1.1e9).
        #expect(abs(result.offset - 0.00009) < 1e-6)
        #expect(result.primary == SourceID(0))
        #expect(abs(result.variance - 9e-11) < 1e-12)
    }

    @Test func oneOrTwoAgreeingSourcesAreEnoughByDefault() {
        #expect(SourceSelection.select([candidate(0, 0.01)], minimumAgreeing: 1) != nil)
        #expect(SourceSelection.select([candidate(0, 0.01), candidate(1, 0.0105)], minimumAgreeing: 1) != nil)
    }

    @Test func twoDisagreeingSourcesGiveNoMajority() {
        #expect(SourceSelection.select([candidate(0, 0), candidate(1, 0.5)], minimumAgreeing: 1) == nil)
    }

    @Test func minimumAgreeingSourcesIsEnforced() {
        let three = [candidate(0, 0), candidate(1, 0.0001), candidate(2, 0.9)]
        #expect(SourceSelection.select(three, minimumAgreeing: 2) != nil)
        #expect(SourceSelection.select(three, minimumAgreeing: 3) == nil)
    }

    @Test func leapIsAnnouncedOnlyByAMajorityOfSurvivors() throws {
        let two = try #require(
            SourceSelection.select(
                [candidate(0, 0, leap: .insertSecond), candidate(1, 0, leap: .insertSecond), candidate(2, 0)],
                minimumAgreeing: 1))
        #expect(two.leap == .insertSecond)
        let one = try #require(
            SourceSelection.select(
                [candidate(0, 0, leap: .insertSecond), candidate(1, 0), candidate(2, 0)], minimumAgreeing: 1))
        #expect(one.leap == .none)
        // A falseticker's vote does not count.
        let falseVote = try #require(
            SourceSelection.select(
                [candidate(0, 0, leap: .deleteSecond), candidate(1, 0), candidate(2, 5, leap: .deleteSecond)],
                minimumAgreeing: 1))
        #expect(falseVote.leap == .none)
    }
}
