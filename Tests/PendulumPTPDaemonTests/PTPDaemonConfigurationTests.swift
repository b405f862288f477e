import PendulumPTP
import Testing

@testable import PendulumPTPDaemon

@Suite("pendulum-ptpd configuration")
struct PTPDaemonConfigurationTests {
    /// The minimal slave configuration of issue 7, exactly as written there.
    static let minimalSlave = """
        domain = 0
        slave-only = true
        [clock]
        kind = "overlay"
        initial-offset-seconds = 0.01
        [[port]]
        interface = "veth1"
        network = "ipv4"            # ipv4 | ipv6 | ethernet
        delay-mechanism = "e2e"     # e2e | p2p
        timestamping = "software"   # software | hardware
        [observability]
        observation-path = "/run/pendulum/ptp-observe"
        """

    @Test func minimalSlaveConfigurationParses() throws {
        let configuration = try PTPDaemonConfiguration(toml: Self.minimalSlave)
        #expect(configuration.domain == 0)
        #expect(configuration.slaveOnly)
        #expect(configuration.clock == .overlay(initialOffsetSeconds: 0.01, frequencyError: 0))
        #expect(configuration.ports.count == 1)
        #expect(configuration.ports.first?.interface == "veth1")
        #expect(configuration.ports.first?.network == .ipv4)
        #expect(configuration.ports.first?.delayMechanism == .e2e)
        #expect(configuration.ports.first?.timestamping == .software)
        #expect(configuration.observationPath == "/run/pendulum/ptp-observe")
        #expect(configuration.metricsListen == nil)
    }

    @Test func portSettingsAndInstanceSettings() throws {
        let configuration = try PTPDaemonConfiguration(toml: """
            domain = 24
            priority1 = 100
            master-only = true
            clock-class = 6
            [clock]
            kind = "system"
            [servo]
            step-threshold-seconds = 0
            [[port]]
            interface = "eth0"
            network = "ethernet"
            delay-mechanism = "p2p"
            log-sync-interval = -3
            log-announce-interval = 0
            announce-receipt-timeout = 4
            [[port]]
            interface = "eth1"
            network = "ipv6"
            """)
        #expect(configuration.domain == 24)
        #expect(configuration.priority1 == 100)
        #expect(configuration.clockClass == 6)
        #expect(configuration.clock == .system)
        #expect(configuration.stepThresholdSeconds == nil)
        #expect(configuration.ports.map(\.interface) == ["eth0", "eth1"])
        #expect(configuration.ports.allSatisfy { $0.masterOnly })
        #expect(configuration.ports[0].delayMechanism == .p2p)
        #expect(configuration.ports[0].network == .ethernet)
        #expect(configuration.ports[0].intervals.logSyncInterval == -3)
        #expect(configuration.ports[0].intervals.logAnnounceInterval == 0)
        #expect(configuration.ports[0].announceReceiptTimeout == 4)
        #expect(configuration.ports[1].network == .ipv6)
    }

    @Test(arguments: [
        ("[[port]]\ninterface = \"a\"\nnetwork = \"ipx\"", "network"),
        ("[[port]]\ninterface = \"a\"\ndelay-mechanism = \"x\"", "delay-mechanism"),
        ("[[port]]\ninterface = \"a\"\ntimestamping = \"x\"", "timestamping"),
        ("domain = 256\n[[port]]\ninterface = \"a\"", "domain"),
        ("domian = 1\n[[port]]\ninterface = \"a\"", "unknown key \"domian\""),
        ("[[port]]\ninterface = \"a\"\nintreface = \"b\"", "unknown key \"intreface\""),
        ("domain = 0", "[[port]]"),
        ("slave-only = true\nmaster-only = true\n[[port]]\ninterface = \"a\"", "exclude"),
        
        ("domain = = 1", "TOML"),
        ("[observability]\nmetrics-listen = \"127.0.0.1\"\n[[port]]\ninterface = \"a\"", "metrics-listen"),
        ("[observability]\nmetrics-listen = \"::1:9\"\n[[port]]\ninterface = \"a\"", "metrics-listen"),
        ("[observability]\nmetrics-listen = \"127.0.0.1:70000\"\n[[port]]\ninterface = \"a\"", "metrics-listen"),
        ("[observability]\nstatus-path = \"/tmp/x\"\n[[port]]\ninterface = \"a\"", "unknown key \"status-path\""),
        ("[clock]\nkind = \"phc\"\n[observability]\nbounds-path = \"/tmp/b\"\n[[port]]\ninterface = \"a\"", "not a PTP hardware clock"),
        ("[observability]\nbounds-path = \"/tmp/\"\n[[port]]\ninterface = \"a\"", "is not a file path"),
        ("[observability]\nbounds-path = \"\"\n[[port]]\ninterface = \"a\"", "is not a file path"),
    ])
    func rejectsBadConfiguration(text: String, mentioning: String) {
        do {
            _ = try PTPDaemonConfiguration(toml: text)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.description.contains(mentioning), "\(error.description)")
        }
    }

    @Test func boundsPathForAnOverlayOrSystemClock() throws {
        let configuration = try PTPDaemonConfiguration(toml: "[clock]\nkind = \"system\"\n[observability]\nbounds-path = \"/run/pendulum/ptp-bounds\"\n[[port]]\ninterface = \"a\"")
        #expect(configuration.boundsPath == "/run/pendulum/ptp-bounds")
        #expect(try PTPDaemonConfiguration(toml: "[[port]]\ninterface = \"a\"").boundsPath == nil)
    }

    @Test(arguments: [("127.0.0.1:9975", "127.0.0.1", 9975), ("[::1]:0", "::1", 0), ("0.0.0.0:19975", "0.0.0.0", 19975)])
    func metricsListenAddresses(text: String, host: String, port: Int) throws {
        let configuration = try PTPDaemonConfiguration(toml: "[observability]\nmetrics-listen = \"\(text)\"\n[[port]]\ninterface = \"a\"")
        let listen = try #require(configuration.metricsListen)
        #expect(listen.host == host)
        #expect(Int(listen.port) == port)
    }

    @Test func summaryLineReportsRMSMaximumFrequencyAndDelay() throws {
        var summary = OffsetSummary()
        summary.add(offset: 3e-6, delay: 20e-6, frequencyPPB: -100)
        summary.add(offset: -4e-6, delay: 22e-6, frequencyPPB: -102)
        let taken = summary.take()
        let line = try #require(taken)
        // rms of 3 and -4 µs is sqrt(12.5) µs = 3536 ns.
        #expect(line == "rms 3536 max 4000 freq -101 +/- 1 delay 21000 +/- 1000")
        let second = summary.take()
        #expect(second == nil)
    }
}
