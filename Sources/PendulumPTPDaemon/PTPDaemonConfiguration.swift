import PendulumIO
import PendulumPTP
import PendulumTOML

/// Everything `pendulum-ptpd --config FILE.toml` reads. Unknown keys are errors so a typo does
/// not silently fall back to a default.
package struct PTPDaemonConfiguration: Sendable, Hashable {
    package enum ClockChoice: Sendable, Hashable {
        /// A software clock on top of the system clock, started this far ahead and with this
        /// intrinsic frequency error (s/s); the system clock is never touched.
        case overlay(initialOffsetSeconds: Double, frequencyError: Double)
        case system
        /// A PTP hardware clock; nil: the PHC of the hardware-timestamping ports.
        case ptpHardware(path: String?)
    }

    package enum Timestamping: String, Sendable, Hashable {
        case software, hardware
    }

    package struct Port: Sendable, Hashable {
        package var interface: String
        package var network: PTPNetwork = .ipv4
        package var delayMechanism: DelayMechanism = .e2e
        package var timestamping: Timestamping = .software
        package var intervals = PTPLogIntervals()
        package var announceReceiptTimeout: UInt8 = 3
        package var masterOnly = false
    }

    package var domain: UInt8 = 0
    package var sdoId: UInt16 = 0
    package var slaveOnly = false
    package var priority1: UInt8 = 128
    package var priority2: UInt8 = 128
    package var clockClass: UInt8 = 248
    package var clockAccuracy: UInt8 = 0xFE
    package var clock = ClockChoice.overlay(initialOffsetSeconds: 0, frequencyError: 0)
    package var ports: [Port] = []
    /// Offsets beyond this are stepped after the first synchronisation (nil: always slew).
    package var stepThresholdSeconds: Double? = 0.128
    /// Offsets beyond this are stepped at the first synchronisation (nil: never step).
    package var firstStepThresholdSeconds: Double? = 0.00002
    /// The Unix socket `pendulum status` reads (ObservationServer).
    package var observationPath: String?
    /// Where the clock's error bound is published for other programs (a system or overlay
    /// clock: both read on CLOCK_REALTIME's scale).
    package var boundsPath: String?
    /// Prometheus metrics on this numeric address and port ("127.0.0.1:9975", "[::1]:9975").
    package var metricsListen: (host: String, port: UInt16)? {
        get { metricsHost.map { ($0, metricsPort) } }
        set { metricsHost = newValue?.host; metricsPort = newValue?.port ?? 0 }
    }
    private var metricsHost: String?
    private var metricsPort: UInt16 = 0
    package var summaryIntervalSeconds: Double = 1

    package init() {}
}

package struct ConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    package var description: String
    init(_ description: String) { self.description = description }
}

extension PTPDaemonConfiguration {
    package init(toml text: String) throws(ConfigurationError) {
        let root: TOMLTable
        do {
            root = try TOMLParser.parse(text)
        } catch {
            throw ConfigurationError("line \(error.line): not valid TOML: \(error.message)")
        }
        self.init()
        var reader = TableReader(root, name: "top level")
        domain = try reader.integer("domain", in: 0...255).map(UInt8.init) ?? domain
        sdoId = try reader.integer("sdo-id", in: 0...0xFFF).map(UInt16.init) ?? sdoId
        slaveOnly = try reader.bool("slave-only") ?? slaveOnly
        let masterOnly = try reader.bool("master-only") ?? false
        if slaveOnly && masterOnly { throw ConfigurationError("slave-only and master-only exclude each other") }
        priority1 = try reader.integer("priority1", in: 0...255).map(UInt8.init) ?? priority1
        priority2 = try reader.integer("priority2", in: 0...255).map(UInt8.init) ?? priority2
        clockClass = try reader.integer("clock-class", in: 0...255).map(UInt8.init) ?? clockClass
        clockAccuracy = try reader.integer("clock-accuracy", in: 0...255).map(UInt8.init) ?? clockAccuracy

        if let table = try reader.table("clock") {
            var clockReader = TableReader(table, name: "[clock]")
            switch try clockReader.string("kind") ?? "overlay" {
            case "overlay":
                let offset = try clockReader.double("initial-offset-seconds") ?? 0
                let ppm = try clockReader.double("frequency-error-ppm") ?? 0
                clock = .overlay(initialOffsetSeconds: offset, frequencyError: ppm * 1e-6)
            case "system": clock = .system
            case "phc", "ptp-hardware":
                clock = .ptpHardware(path: try clockReader.string("path"))
            case let other: throw ConfigurationError("[clock] kind: \"\(other)\" is not overlay, system or phc")
            }
            try clockReader.finish()
        }
        if let table = try reader.table("servo") {
            var servoReader = TableReader(table, name: "[servo]")
            if let step = try servoReader.double("step-threshold-seconds") { stepThresholdSeconds = step > 0 ? step : nil }
            if let first = try servoReader.double("first-step-threshold-seconds") {
                firstStepThresholdSeconds = first > 0 ? first : nil
            }
            try servoReader.finish()
        }
        if let table = try reader.table("observability") {
            var observe = TableReader(table, name: "[observability]")
            observationPath = try observe.string("observation-path")
            if let path = try observe.string("bounds-path") {
                guard !path.isEmpty, !path.hasSuffix("/") else {
                    throw ConfigurationError("[observability] bounds-path \"\(path)\" is not a file path")
                }
                if case .ptpHardware = clock {
                    // Readers compute the clock's time from CLOCK_REALTIME; a PHC keeps TAI on a
                    // device of its own.
                    throw ConfigurationError("[observability] bounds-path: bounds are published for a system or overlay clock, not a PTP hardware clock")
                }
                boundsPath = path
            }
            if let listen = try observe.string("metrics-listen") { metricsListen = try Self.parseListen(listen) }
            if let interval = try observe.double("summary-interval-seconds") {
                guard interval > 0 else { throw ConfigurationError("[observability] summary-interval-seconds must be positive") }
                summaryIntervalSeconds = interval
            }
            try observe.finish()
        }
        guard let portTables = try reader.tableArray("port"), !portTables.isEmpty else {
            throw ConfigurationError("at least one [[port]] is needed")
        }
        for (index, table) in portTables.enumerated() {
            var portReader = TableReader(table, name: "[[port]] #\(index + 1)")
            guard let interface = try portReader.string("interface"), !interface.isEmpty else {
                throw ConfigurationError("[[port]] #\(index + 1) needs interface")
            }
            var port = Port(interface: interface)
            port.masterOnly = masterOnly
            if let network = try portReader.string("network") {
                guard let value = PTPNetwork(rawValue: network) else {
                    throw ConfigurationError("[[port]] network: \"\(network)\" is not ipv4, ipv6 or ethernet")
                }
                port.network = value
            }
            switch try portReader.string("delay-mechanism") ?? "e2e" {
            case "e2e": port.delayMechanism = .e2e
            case "p2p": port.delayMechanism = .p2p
            case let other: throw ConfigurationError("[[port]] delay-mechanism: \"\(other)\" is not e2e or p2p")
            }
            if let stamping = try portReader.string("timestamping") {
                guard let value = Timestamping(rawValue: stamping) else {
                    throw ConfigurationError("[[port]] timestamping: \"\(stamping)\" is not software or hardware")
                }
                port.timestamping = value
            }
            let logRange = -7...8
            if let log = try portReader.integer("log-announce-interval", in: logRange) { port.intervals.logAnnounceInterval = Int8(log) }
            if let log = try portReader.integer("log-sync-interval", in: logRange) { port.intervals.logSyncInterval = Int8(log) }
            if let log = try portReader.integer("log-min-delay-req-interval", in: logRange) {
                port.intervals.logMinDelayReqInterval = Int8(log)
            }
            if let log = try portReader.integer("log-min-pdelay-req-interval", in: logRange) {
                port.intervals.logMinPdelayReqInterval = Int8(log)
            }
            if let timeout = try portReader.integer("announce-receipt-timeout", in: 2...255) {
                port.announceReceiptTimeout = UInt8(timeout)
            }
            try portReader.finish()
            ports.append(port)
        }
        try reader.finish()
    }
}

extension PTPDaemonConfiguration {
    /// "HOST:PORT" with a numeric IPv4 host, or "[IPv6]:PORT".
    static func parseListen(_ text: String) throws(ConfigurationError) -> (host: String, port: UInt16) {
        let host: Substring, portText: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw ConfigurationError("[observability] metrics-listen \"\(text)\" needs a port") }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else {
                throw ConfigurationError("[observability] metrics-listen \"\(text)\" is not HOST:PORT (IPv6: [ADDRESS]:PORT)")
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, let port = UInt16(portText) else {
            throw ConfigurationError("[observability] metrics-listen \"\(text)\" is not HOST:PORT")
        }
        return (String(host), port)
    }
}

/// Reads typed keys from one table and remembers which were used, so `finish()` can reject
/// the rest.
private struct TableReader {
    let table: TOMLTable
    let name: String
    var used: Set<String> = []

    init(_ table: TOMLTable, name: String) {
        self.table = table
        self.name = name
    }

    private mutating func value(_ key: String) -> TOMLNode? {
        used.insert(key)
        return table[key]
    }

    mutating func integer(_ key: String, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
        guard let raw = value(key) else { return nil }
        guard let number = raw.int else { throw ConfigurationError("line \(raw.line): \(name) \(key) must be an integer") }
        guard range.contains(number) else {
            throw ConfigurationError("line \(raw.line): \(name) \(key) = \(number) is outside \(range.lowerBound)...\(range.upperBound)")
        }
        return number
    }

    mutating func double(_ key: String) throws(ConfigurationError) -> Double? {
        guard let raw = value(key) else { return nil }
        if let number = raw.double, number.isFinite { return number }
        if let number = raw.int { return Double(number) }
        throw ConfigurationError("line \(raw.line): \(name) \(key) must be a number")
    }

    mutating func bool(_ key: String) throws(ConfigurationError) -> Bool? {
        guard let raw = value(key) else { return nil }
        guard let flag = raw.bool else { throw ConfigurationError("line \(raw.line): \(name) \(key) must be true or false") }
        return flag
    }

    mutating func string(_ key: String) throws(ConfigurationError) -> String? {
        guard let raw = value(key) else { return nil }
        guard let text = raw.string else { throw ConfigurationError("line \(raw.line): \(name) \(key) must be a string") }
        return text
    }

    mutating func table(_ key: String) throws(ConfigurationError) -> TOMLTable? {
        guard let raw = value(key) else { return nil }
        guard let table = raw.table else { throw ConfigurationError("line \(raw.line): \(name) \(key) must be a table") }
        return table
    }

    mutating func tableArray(_ key: String) throws(ConfigurationError) -> [TOMLTable]? {
        guard let raw = value(key) else { return nil }
        guard let array = raw.array else { throw ConfigurationError("\(name) \(key) must be an array of tables ([[\(key)]])") }
        var tables: [TOMLTable] = []
        for element in array {
            guard let table = element.table else { throw ConfigurationError("\(name) \(key) entries must be tables") }
            tables.append(table)
        }
        return tables
    }

    func finish() throws(ConfigurationError) {
        let unknown = table.keys.filter { !used.contains($0) }.sorted()
        if let first = unknown.first { throw ConfigurationError("line \(table[first]?.line ?? 0): \(name): unknown key \"\(first)\"") }
    }
}
