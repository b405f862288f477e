import PendulumDaemonConfig
import Testing

/// The client half of the configuration: sources, clock, synchronisation thresholds,
/// observability, and the documented examples.
@Suite struct DaemonClientConfigurationTests {
    func failure(_ text: String) -> ConfigurationError? {
        do {
            _ = try DaemonConfigurationParser.parse(text, file: "bad.toml")
            return nil
        } catch {
            return error
        }
    }

    @Test func parsesSourcesClockAndObservability() throws {
        let text = """
            [[source]]
            mode = "pool"
            address = "pool.example.org"
            count = 6
            [[source]]
            address = "192.0.2.1:1123"
            [[source]]
            mode = "nts"
            address = "[2001:db8::1]"
            ke-port = 14460
            ca-file = "/etc/ca.pem"
            [clock]
            kind = "overlay"
            initial-offset-seconds = 0.25
            initial-frequency-ppm = 30
            drift-file = "/var/lib/pendulum/drift"
            [synchronization]
            minimum-agreeing-sources = 2
            step-threshold-seconds = 0.5
            panic-threshold-seconds = 100
            certificate-time-check = "always"
            [observability]
            observation-path = "/run/p/observe"
            metrics-listen = "[::1]:9975"
            log-level = "debug"
            """
        let configuration = try DaemonConfigurationParser.parse(text, file: "a.toml")
        #expect(configuration.sources.count == 3)
        #expect(configuration.sources[0] == { var s = SourceSection(mode: .pool, host: "pool.example.org"); s.count = 6; return s }())
        #expect(configuration.sources[1] == SourceSection(mode: .server, host: "192.0.2.1", port: 1123))
        #expect(configuration.sources[2].host == "2001:db8::1")
        #expect(configuration.sources[2].port == nil)
        #expect(configuration.sources[2].keyExchangePort == 14460)
        #expect(configuration.sources[2].caFile == "/etc/ca.pem")
        #expect(configuration.associationCount == 8)
        #expect(configuration.effectiveMinimumAgreeingSources == 2)
        #expect(configuration.clock.kind == .overlay)
        #expect(configuration.clock.initialOffsetSeconds == 0.25)
        #expect(configuration.clock.initialFrequencyPPM == 30)
        #expect(configuration.clock.driftFile == "/var/lib/pendulum/drift")
        #expect(configuration.synchronization.stepThresholdSeconds == 0.5)
        #expect(configuration.synchronization.panicThresholdSeconds == 100)
        #expect(configuration.synchronization.certificateTimeCheck == .always)
        #expect(try DaemonConfigurationParser.parse("", file: "b.toml").synchronization.certificateTimeCheck == .afterAgreement)
        #expect(configuration.observability.observationPath == "/run/p/observe")
        #expect(configuration.observability.metricsListen?.description == "[::1]:9975")
        #expect(configuration.observability.logLevel == .debug)
        #expect(configuration.warnings.isEmpty)
    }

    @Test func oneOrTwoSourcesStillSynchroniseWithAWarning() throws {
        let one = try DaemonConfigurationParser.parse("[[source]]\naddress = \"192.0.2.1\"\n", file: "a.toml")
        #expect(one.effectiveMinimumAgreeingSources == 1)
        #expect(one.warnings.contains { $0.contains("only 1 time source") })
        let two = try DaemonConfigurationParser.parse("[[source]]\naddress = \"a.example\"\n[[source]]\naddress = \"b.example\"\n", file: "a.toml")
        #expect(two.effectiveMinimumAgreeingSources == 2)
        let pool = try DaemonConfigurationParser.parse("[[source]]\nmode = \"pool\"\naddress = \"p.example\"\n", file: "a.toml")
        #expect(pool.effectiveMinimumAgreeingSources == 3)
        #expect(pool.warnings.isEmpty)
    }

    @Test func badSourcesAreNamedWithTheirLine() throws {
        let badMode = try #require(failure("[[source]]\nmode = \"peer\"\naddress = \"a\"\n"))
        #expect(badMode.key == "source[0].mode")
        #expect(badMode.line == 2)
        #expect(badMode.description.hasPrefix("bad.toml:2: source[0].mode: \"peer\" is not one of"))
        #expect(try #require(failure("[[source]]\nmode = \"server\"\n")).key == "source[0].address")
        #expect(try #require(failure("[[source]]\naddress = \"a b\"\n")).key == "source[0].address")
        #expect(try #require(failure("[[source]]\naddress = \"a:0\"\n")).key == "source[0].address")
        #expect(try #require(failure("[[source]]\naddress = \"[::1\"\n")).key == "source[0].address")
        #expect(try #require(failure("[[source]]\naddress = \"a\"\nke-port = 1\n")).key == "source[0].ke-port")
        #expect(try #require(failure("[[source]]\naddress = \"a\"\ncount = 2\n")).key == "source[0].count")
        #expect(try #require(failure("[[source]]\nmode = \"pool\"\naddress = \"a\"\ncount = 0\n")).key == "source[0].count")
        let typo = try #require(failure("[[source]]\naddress = \"a\"\nke_port = 1\n"))
        #expect(typo.key == "source[0].ke_port")
        #expect(typo.line == 3)
    }

    @Test func badClockSynchronizationAndObservability() throws {
        #expect(try #require(failure("[clock]\nkind = \"atomic\"\n")).key == "clock.kind")
        #expect(try #require(failure("[clock]\ninitial-offset-seconds = \"1\"\n")).key == "clock.initial-offset-seconds")
        #expect(try #require(failure("[clock]\ninitial-frequency-ppm = 5000\n")).key == "clock.initial-frequency-ppm")
        #expect(try #require(failure("[clock]\ninitial-offset-seconds = nan\n")).key == "clock.initial-offset-seconds")
        #expect(try #require(failure("[clock]\ndrift-file = \"\"\n")).key == "clock.drift-file")
        #expect(try #require(failure("[clock]\ndrift-file = \"/var/lib/\"\n")).key == "clock.drift-file")
        #expect(try #require(failure("[clock]\ndrift-file = 1\n")).key == "clock.drift-file")
        #expect(try #require(failure("[synchronization]\nminimum-agreeing-sources = 0\n")).key == "synchronization.minimum-agreeing-sources")
        #expect(try #require(failure("[synchronization]\nstep-threshold-seconds = 2\npanic-threshold-seconds = 1\n")).key == "synchronization.panic-threshold-seconds")
        #expect(try #require(failure("[synchronization]\ncertificate-time-check = \"never\"\n")).key == "synchronization.certificate-time-check")
        #expect(try #require(failure("[observability]\nlog-level = \"loud\"\n")).key == "observability.log-level")
        #expect(try #require(failure("[observability]\nmetrics-listen = \"localhost:80\"\n")).key == "observability.metrics-listen")
        #expect(try #require(failure("[observability]\nobservation-path = \"\"\n")).key == "observability.observation-path")
        #expect(try #require(failure("clock = 5\n")).key == "clock")
    }

    @Test func everyDocumentedExampleIsValid() throws {
        let directory = String(#filePath.split(separator: "/Tests/").first ?? "") + "/docs/examples"
        for name in ["client", "nts-client", "server", "nts-server"] {
            let configuration = try DaemonConfigurationParser.load(path: "\(directory)/\(name).toml")
            switch name {
            case "client": #expect(configuration.sources.map(\.mode) == [.pool, .server, .server])
            case "nts-client": #expect(configuration.sources.count == 4 && configuration.sources.allSatisfy { $0.mode == .nts })
            case "server": #expect(configuration.servers.count == 2 && configuration.sources.count == 3)
            default: #expect(configuration.ntsKEServers.count == 1)
            }
        }
    }

    @Test func defaultConfigurationUsesPublicNTSServers() {
        let configuration = DefaultConfiguration.make(observationPath: "/run/pendulum/observe")
        #expect(configuration.sources.count >= 3)
        #expect(configuration.sources.allSatisfy { $0.mode == .nts })
        #expect(configuration.servers.isEmpty)
        #expect(configuration.clock.kind == nil)
    }
}
