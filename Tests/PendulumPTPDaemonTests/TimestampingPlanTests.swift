import PendulumIO
import PendulumPTP
import PendulumTime
import Testing

@testable import PendulumPTPDaemon

/// Hardware timestamping is chosen only when every port's interface reports it, and then the
/// steered clock is that interfaces' PHC. No NIC here has hardware timestamps, so the
/// capabilities are given.
@Suite("pendulum-ptpd timestamping plan")
struct TimestampingPlanTests {
    static func configuration(clock: String, ports: [(String, String)]) throws -> PTPDaemonConfiguration {
        let portTables = ports.map { "[[port]]\ninterface = \"\($0.0)\"\ntimestamping = \"\($0.1)\"" }.joined(separator: "\n")
        return try PTPDaemonConfiguration(toml: "[clock]\n\(clock)\n\(portTables)")
    }

    static let nics: [String: TimestampingPlan.Capability] = [
        "eth0": .init(hardwareTimestamping: true, phcIndex: 0),
        "eth1": .init(hardwareTimestamping: true, phcIndex: 0),
        "eth2": .init(hardwareTimestamping: true, phcIndex: 1),
        "veth0": .init(hardwareTimestamping: false, phcIndex: nil),
        "odd0": .init(hardwareTimestamping: true, phcIndex: nil),
    ]

    static func plan(_ configuration: PTPDaemonConfiguration) throws(ConfigurationError) -> TimestampingPlan {
        try TimestampingPlan(configuration: configuration) { nics[$0] ?? .init(hardwareTimestamping: false, phcIndex: nil) }
    }

    @Test func softwarePortsKeepTheConfiguredClockAndNeverAskTheNIC() throws {
        let configuration = try Self.configuration(clock: "kind = \"overlay\"", ports: [("veth0", "software")])
        let plan = try TimestampingPlan(configuration: configuration) { interface in
            Issue.record("asked \(interface)")
            return .init(hardwareTimestamping: false, phcIndex: nil)
        }
        #expect(!plan.hardwareTimestamps)
        #expect(plan.clock == .overlay(initialOffsetSeconds: 0, frequencyError: 0))
        #expect(plan.clockIsUTC)
    }

    @Test func hardwarePortsSteerTheirPHC() throws {
        let plan = try Self.plan(Self.configuration(clock: "kind = \"phc\"", ports: [("eth0", "hardware"), ("eth1", "hardware")]))
        #expect(plan.hardwareTimestamps)
        #expect(plan.clock == .ptpHardware(path: "/dev/ptp0"))
        #expect(!plan.clockIsUTC)
        let explicit = try Self.plan(Self.configuration(clock: "kind = \"phc\"\npath = \"/dev/ptp1\"", ports: [("eth2", "hardware")]))
        #expect(explicit.clock == .ptpHardware(path: "/dev/ptp1"))
    }

    @Test(arguments: [
        ("kind = \"phc\"", [("veth0", "hardware")], "no hardware timestamping"),
        ("kind = \"phc\"", [("odd0", "hardware")], "without a PTP hardware clock"),
        ("kind = \"phc\"", [("eth0", "hardware"), ("eth2", "hardware")], "different PTP hardware clocks"),
        ("kind = \"phc\"", [("eth0", "hardware"), ("veth0", "software")], "all ports or none"),
        ("kind = \"overlay\"", [("eth0", "hardware")], "kind = \"phc\""),
        ("kind = \"system\"", [("eth0", "hardware")], "kind = \"phc\""),
        ("kind = \"phc\"\npath = \"/dev/ptp1\"", [("eth0", "hardware")], "not the interfaces' PTP hardware clock /dev/ptp0"),
        ("kind = \"phc\"", [("veth0", "software")], "needs path"),
    ])
    func refusesWhatCannotWork(clock: String, ports: [(String, String)], mentioning: String) throws {
        let configuration = try Self.configuration(clock: clock, ports: ports)
        do {
            _ = try Self.plan(configuration)
            Issue.record("accepted \(clock) \(ports)")
        } catch {
            #expect(error.description.contains(mentioning), "\(error.description)")
        }
    }

    static let utcOffsetValid: TimePropertiesDataset = {
        var properties = TimePropertiesDataset()
        properties.ptpTimescale = true
        properties.currentUtcOffset = 37
        properties.currentUtcOffsetValid = true
        return properties
    }()

    static let systemTime = UnixTime(seconds: 1_764_000_000, nanoseconds: 123_456_789)

    /// The PHC reading in a hardware timestamp is used as is: no system-clock mapping, no UTC
    /// offset (the PHC runs on the PTP timescale), whatever the master announces.
    @Test func hardwareTimestampsAreThePHCsOwnReadings() {
        let mapping = PTPTimestampMapping(hardwareTimestamps: true, clockIsUTC: false)
        let stamp = PacketTimestamp(time: Self.systemTime, source: .hardware)
        let mapped = mapping.ptpTimestamp(of: stamp, transmit: false, timeProperties: Self.utcOffsetValid) { _ in
            Issue.record("a hardware timestamp went through the system-clock mapping")
            return UnixTime(seconds: 0, nanoseconds: 0)
        }
        #expect(mapped == PTPTimestamp(seconds: 1_764_000_000, nanoseconds: 123_456_789))
        #expect(mapping.ptpTimestamp(of: stamp, transmit: true, timeProperties: TimePropertiesDataset()) { $0 } == mapped)
    }

    /// With hardware timestamping on, a software timestamp is another clock's time: dropped.
    @Test(arguments: [PacketTimestamp.Source.kernel, .userSpace])
    func hardwarePortsRefuseSoftwareTimestamps(source: PacketTimestamp.Source) {
        let mapping = PTPTimestampMapping(hardwareTimestamps: true, clockIsUTC: false)
        #expect(mapping.ptpTimestamp(of: PacketTimestamp(time: Self.systemTime, source: source), transmit: false,
                                     timeProperties: TimePropertiesDataset()) { $0 } == nil)
    }

    @Test func softwareTimestampsGoThroughTheSteeredClockAndTheUTCOffset() {
        let mapping = PTPTimestampMapping(hardwareTimestamps: false, clockIsUTC: true)
        let stamp = PacketTimestamp(time: Self.systemTime, source: .kernel)
        // The overlay clock is 10 ms ahead of the system clock.
        let ahead: (UnixTime) -> UnixTime = { UnixTime(seconds: $0.seconds, nanoseconds: Int64($0.nanoseconds) + 10_000_000) }
        #expect(mapping.ptpTimestamp(of: stamp, transmit: false, timeProperties: TimePropertiesDataset(), clockTime: ahead)
                == PTPTimestamp(seconds: 1_764_000_000, nanoseconds: 133_456_789))
        #expect(mapping.ptpTimestamp(of: stamp, transmit: false, timeProperties: Self.utcOffsetValid, clockTime: ahead)
                == PTPTimestamp(seconds: 1_764_000_037, nanoseconds: 133_456_789))
        // A user-space receive time is a usable fallback; a user-space transmit time is not.
        let late = PacketTimestamp(time: Self.systemTime, source: .userSpace)
        #expect(mapping.ptpTimestamp(of: late, transmit: false, timeProperties: TimePropertiesDataset()) { $0 } != nil)
        #expect(mapping.ptpTimestamp(of: late, transmit: true, timeProperties: TimePropertiesDataset()) { $0 } == nil)
        #expect(mapping.ptpTimestamp(of: PacketTimestamp(time: Self.systemTime, source: .hardware), transmit: false,
                                     timeProperties: TimePropertiesDataset()) { $0 } == nil)
    }
}
