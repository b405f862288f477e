import Foundation
import Testing
import PendulumDaemonConfig
import PendulumNTPServer

@Suite struct DaemonConfigurationParserTests {
    let issueExample = """
        [[server]]
        listen = "127.0.0.1:11123"
        [[nts-ke-server]]
        listen = "127.0.0.1:14460"
        certificate-chain-path = "cert.pem"
        private-key-path = "key.pem"
        ntp-port = 11123          # sent as a Port record when set
        [keyset]
        key-storage-path = "keys.bin"
        """

    @Test func parsesTheIssueExample() throws {
        let configuration = try DaemonConfigurationParser.parse(issueExample, file: "a.toml")
        #expect(configuration.servers.map(\.listen.description) == ["127.0.0.1:11123"])
        #expect(configuration.ntsKEServers.first?.ntpPort == 11123)
        #expect(configuration.ntsKEServers.first?.certificateChainPath == "cert.pem")
        #expect(configuration.keyset?.keyStoragePath == "keys.bin")
        #expect(configuration.keyset?.rotationPeriodSeconds == 86_400)
        #expect(configuration.keyset?.staleKeyCount == 7)
        #expect(configuration.synchronization.localStratum == nil)
    }

    @Test func ntsKEAdmissionLimitsHaveDefaultsAndRanges() throws {
        let defaults = try #require(try DaemonConfigurationParser.parse(issueExample, file: "a.toml").ntsKEServers.first)
        #expect(defaults.maximumConnections == 512)
        #expect(defaults.maximumConnectionsPerAddress == 8)
        #expect(defaults.maximumConnectionsPerNetwork == 64)
        #expect(defaults.rateLimitIntervalMilliseconds == 125)
        #expect(defaults.rateLimitBurst == 32)
        let lines = "max-connections-per-address = 2\nmax-connections-per-network = 3\nrate-limit-interval-ms = 0\nrate-limit-burst = 5\n"
        let set = try #require(try DaemonConfigurationParser.parse(issueExample.replacingOccurrences(of: "[keyset]", with: lines + "[keyset]"), file: "a.toml").ntsKEServers.first)
        #expect(set.maximumConnectionsPerAddress == 2)
        #expect(set.maximumConnectionsPerNetwork == 3)
        #expect(set.rateLimitIntervalMilliseconds == 0)
        #expect(set.rateLimitBurst == 5)
        let zero = try #require(failure(issueExample.replacingOccurrences(of: "[keyset]", with: "max-connections-per-address = 0\n[keyset]")))
        #expect(zero.key == "nts-ke-server[0].max-connections-per-address")
    }

    @Test func parsesPolicyAndSynchronization() throws {
        let text = """
            [[server]]
            listen = "[::1]:123"
            allow = ["::1/128", "127.0.0.0/8"]
            deny = ["10.0.0.0/8"]
            deny-action = "drop"
            rate-limit-interval-ms = 0
            workers = 3
            [synchronization]
            local-stratum = 3
            """
        let configuration = try DaemonConfigurationParser.parse(text, file: "b.toml")
        let server = try #require(configuration.servers.first)
        #expect(server.workers == 3)
        #expect(try DaemonConfigurationParser.parse("[[server]]\nlisten = \"127.0.0.1:1\"\n", file: "c.toml").servers.first?.workers == nil)
        #expect(server.listen.description == "[::1]:123")
        #expect(server.allow.count == 2)
        #expect(server.denyAction == .drop)
        #expect(server.rateLimit == nil)
        #expect(configuration.synchronization.localStratum == 3)
    }

    func failure(_ text: String) -> ConfigurationError? {
        do { _ = try DaemonConfigurationParser.parse(text, file: "bad.toml"); return nil } catch { return error }
    }

    @Test func unknownKeyIsNamedWithItsLine() throws {
        let error = try #require(failure(issueExample + "\nrotation = 5\n"))
        #expect(error.key == "keyset.rotation")
        #expect(error.line == 10)
        #expect(error.description.hasPrefix("bad.toml:10: keyset.rotation: unknown key"))
        let topLevel = try #require(failure("[[servers]]\nlisten = \"127.0.0.1:1\"\n"))
        #expect(topLevel.key == "servers")
        #expect(topLevel.line == 1)
    }

    @Test func wrongTypesRangesAndMissingKeys() throws {
        #expect(try #require(failure("[[server]]\nlisten = 123\n")).key == "server[0].listen")
        #expect(try #require(failure("[[server]]\nlisten = \"localhost:123\"\n")).key == "server[0].listen")
        #expect(try #require(failure("[[server]]\nlisten = \"127.0.0.1:70000\"\n")).key == "server[0].listen")
        #expect(try #require(failure("[[server]]\n")).key == "server[0].listen")
        #expect(try #require(failure("[synchronization]\nlocal-stratum = 16\n")).key == "synchronization.local-stratum")
        #expect(try #require(failure("[[server]]\nlisten = \"127.0.0.1:1\"\nworkers = 0\n")).key == "server[0].workers")
        #expect(try #require(failure("[[server]]\nlisten = \"127.0.0.1:1\"\ndeny = [\"10/8\"]\n")).key == "server[0].deny")
        let noKeyset = try #require(failure("[[nts-ke-server]]\nlisten = \"127.0.0.1:1\"\ncertificate-chain-path = \"c\"\nprivate-key-path = \"k\"\n"))
        #expect(noKeyset.key == "keyset")
    }

    @Test func leapSmearIsPerListenerWithADayLongWindowByDefault() throws {
        let text = "[[server]]\nlisten = \"127.0.0.1:1\"\nleap-smear = \"cosine\"\n[[server]]\nlisten = \"127.0.0.1:2\"\n"
        let servers = try DaemonConfigurationParser.parse(text, file: "s.toml").servers
        #expect(servers.first?.leapSmear?.shape == .cosine)
        #expect(servers.first?.leapSmear?.windowSeconds == 86_400)
        #expect(servers.last?.leapSmear == nil)
        let short = try DaemonConfigurationParser.parse(
            "[[server]]\nlisten = \"127.0.0.1:1\"\nleap-smear = \"linear\"\nleap-smear-window-seconds = 600\n", file: "s.toml")
        #expect(short.servers.first?.leapSmear == LeapSmear(shape: .linear, windowSeconds: 600))
        #expect(try DaemonConfigurationParser.parse("[[server]]\nlisten = \"127.0.0.1:1\"\nleap-smear = \"none\"\n", file: "s.toml").servers.first?.leapSmear == nil)
        let unknown = try #require(failure("[[server]]\nlisten = \"127.0.0.1:1\"\nleap-smear = \"google\"\n"))
        #expect(unknown.key == "server[0].leap-smear")
        #expect(unknown.line == 3)
        #expect(unknown.description.contains("expected \"linear\", \"cosine\" or \"none\""))
        #expect(try #require(failure("[[server]]\nlisten = \"127.0.0.1:1\"\nleap-smear = \"linear\"\nleap-smear-window-seconds = 86401\n")).key
            == "server[0].leap-smear-window-seconds")
        let windowAlone = try #require(failure("[[server]]\nlisten = \"127.0.0.1:1\"\nleap-smear-window-seconds = 600\n"))
        #expect(windowAlone.description.contains("only means something with leap-smear"))
    }

    @Test func invalidTOMLReportsItsLine() throws {
        let error = try #require(failure("[[server]]\nlisten = \n"))
        #expect(error.line == 2)
    }

    @Test func documentedExampleIsValid() throws {
        let path = String(#filePath.split(separator: "/Tests/").first ?? "") + "/docs/examples/nts-server.toml"
        let configuration = try DaemonConfigurationParser.load(path: path)
        #expect(configuration.servers.count == 2)
        #expect(configuration.ntsKEServers.first?.ntpPort == 11123)
        #expect(configuration.synchronization.localStratum == 2)
        // Relative paths are taken from the file's directory.
        let directory = String(path.dropLast("/nts-server.toml".count))
        #expect(configuration.ntsKEServers.first?.certificateChainPath == directory + "/cert.pem")
        #expect(configuration.keyset?.keyStoragePath == directory + "/keys.bin")
    }
}
