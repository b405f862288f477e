import PendulumDaemonConfig
import PendulumDiscipline
import Testing

/// minpoll/maxpoll/iburst in `[[source]]` and `[source-defaults]`, read as a chrony user expects.
@Suite struct SourcePollingConfigurationTests {
    func parse(_ text: String) throws -> DaemonConfiguration {
        try DaemonConfigurationParser.parse(text, file: "poll.toml")
    }

    func failure(_ text: String) -> ConfigurationError? {
        do { _ = try DaemonConfigurationParser.parse(text, file: "poll.toml"); return nil } catch { return error }
    }

    @Test func withoutKeysASourcePollsAdaptivelyFrom16SecondsTo17Minutes() throws {
        let source = try #require(try parse("[[source]]\naddress = \"192.0.2.1\"\n").sources.first)
        #expect(source.polling == PollSettings(limits: 4...10, initialBurst: true))
    }

    @Test func oneSecondPollingAsInChrony() throws {
        let text = "[[source]]\naddress = \"192.0.2.1\"\nminpoll = 0\nmaxpoll = 0\niburst = false\n"
        let source = try #require(try parse(text).sources.first)
        #expect(source.polling == PollSettings(limits: 0...0, initialBurst: false))
    }

    @Test func sourceKeysOverrideTheDefaultsTable() throws {
        let text = """
            [source-defaults]
            minpoll = -2
            maxpoll = 6
            iburst = false
            [[source]]
            address = "192.0.2.1"
            [[source]]
            address = "192.0.2.2"
            maxpoll = 3
            [[source]]
            mode = "pool"
            address = "pool.example.org"
            iburst = true
            burst = true
            """
        let sources = try parse(text).sources
        #expect(sources.map(\.polling) == [
            PollSettings(limits: -2...6, initialBurst: false),
            PollSettings(limits: -2...3, initialBurst: false),
            PollSettings(limits: -2...6, initialBurst: true, burstEachPoll: true),
        ])
    }

    @Test func aLoneBoundMovesTheOtherDefaultAlongAsChronyDoes() throws {
        let high = try #require(try parse("[[source]]\naddress = \"192.0.2.1\"\nminpoll = 12\n").sources.first)
        #expect(high.polling.limits == 12...12)
        let low = try #require(try parse("[[source]]\naddress = \"192.0.2.1\"\nmaxpoll = 2\n").sources.first)
        #expect(low.polling.limits == 2...2)
    }

    @Test func badPollKeysAreRefusedWithKeyAndLine() throws {
        let inverted = try #require(failure("[[source]]\naddress = \"192.0.2.1\"\nminpoll = 6\nmaxpoll = 4\n"))
        #expect(inverted.key == "source[0].maxpoll")
        #expect(inverted.line == 4)
        #expect(inverted.description.contains("minpoll 6 is above maxpoll 4"))

        let tooFast = try #require(failure("[[source]]\naddress = \"192.0.2.1\"\nminpoll = -5\n"))
        #expect(tooFast.key == "source[0].minpoll")
        #expect(tooFast.description.contains("outside -4...17"))

        let tooSlow = try #require(failure("[source-defaults]\nmaxpoll = 18\n"))
        #expect(tooSlow.key == "source-defaults.maxpoll")
        #expect(tooSlow.line == 2)

        let notABool = try #require(failure("[[source]]\naddress = \"192.0.2.1\"\niburst = 1\n"))
        #expect(notABool.key == "source[0].iburst")

        let unknown = try #require(failure("[source-defaults]\npoll = 4\n"))
        #expect(unknown.key == "source-defaults.poll")
        #expect(unknown.description.contains("allowed here: burst, iburst, maxpoll, minpoll"))

        let burstNotABool = try #require(failure("[source-defaults]\nburst = \"yes\"\n"))
        #expect(burstNotABool.key == "source-defaults.burst")

        let invertedDefaults = try #require(failure("[source-defaults]\nminpoll = 8\nmaxpoll = 7\n"))
        #expect(invertedDefaults.key == "source-defaults.maxpoll")
    }

    @Test func pollIntervalsAreExactPowersOfTwoIncludingSubSecondOnes() {
        #expect(PollSettings.interval(log2: 0).rawValue == 1 << 32)
        #expect(PollSettings.interval(log2: -4).rawValue == 1 << 28)
        #expect(PollSettings.interval(log2: 17).rawValue == Int64(1) << 49)
        #expect(PollSettings.seconds(log2: -2) == 0.25)
        #expect(PollSettings.seconds(log2: 10) == 1024)
    }
}
