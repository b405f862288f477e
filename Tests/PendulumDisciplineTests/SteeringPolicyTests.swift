import Testing

@testable import PendulumDiscipline

@Suite struct SteeringPolicyTests {
    var configuration: DisciplineConfiguration {
        var configuration = DisciplineConfiguration()
        configuration.startupStepThreshold = 0.001
        configuration.stepThreshold = 0.128
        configuration.startupPanicThreshold = 10
        configuration.panicThreshold = 1
        return configuration
    }

    @Test func startupStepsJustAboveItsThresholdAndSlewsJustBelow() {
        let policy = SteeringPolicy(configuration: configuration)
        #expect(policy.decide(offset: 0.00099, startup: true) == .slew)
        #expect(policy.decide(offset: -0.00101, startup: true) == .step(-0.00101))
        #expect(policy.decide(offset: 5, startup: true) == .step(5))
    }

    @Test func afterStartupTheLargerThresholdApplies() {
        let policy = SteeringPolicy(configuration: configuration)
        #expect(policy.decide(offset: 0.01, startup: false) == .slew)
        #expect(policy.decide(offset: 0.1279, startup: false) == .slew)
        #expect(policy.decide(offset: 0.1281, startup: false) == .step(0.1281))
        #expect(policy.decide(offset: -0.5, startup: false) == .step(-0.5))
    }

    @Test func panicThresholdsRefuseInsteadOfStepping() {
        let policy = SteeringPolicy(configuration: configuration)
        #expect(policy.decide(offset: 1.5, startup: false) == .refuse)
        #expect(policy.decide(offset: -0.99, startup: false) == .step(-0.99))
        #expect(policy.decide(offset: 10.5, startup: true) == .refuse)
        #expect(policy.decide(offset: 9.5, startup: true) == .step(9.5))
    }

    @Test func missingThresholdsMeanNeverStepAndNeverPanic() {
        var configuration = DisciplineConfiguration()
        configuration.startupStepThreshold = nil
        configuration.stepThreshold = nil
        configuration.startupPanicThreshold = nil
        configuration.panicThreshold = nil
        let policy = SteeringPolicy(configuration: configuration)
        #expect(policy.decide(offset: 3600, startup: true) == .slew)
        #expect(policy.decide(offset: -3600, startup: false) == .slew)
    }
}
