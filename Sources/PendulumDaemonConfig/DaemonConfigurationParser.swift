import PendulumDiscipline
import PendulumIO
import PendulumNTPServer
import PendulumNTS
import PendulumTOML

/// Reads the TOML configuration. Keys are kebab-case; any key the daemon does not know is an
/// error naming it (a typo must not silently fall back to a default).
public enum DaemonConfigurationParser {
    public static func parse(_ text: String, file: String) throws(ConfigurationError) -> DaemonConfiguration {
        let table: TOMLTable
        do {
            table = try TOMLParser.parse(text)
        } catch {
            throw ConfigurationError(file: file, line: error.line, key: "", message: "not valid TOML: \(error.message)")
        }
        var reader = TableReader(file: file, text: text)
        return try reader.configuration(from: table)
    }

    /// The largest configuration file read.
    public static let maximumFileBytes = TextFile.defaultLimit

    /// Reads and parses a file. Relative paths in it (certificate, key, key file) are taken
    /// relative to the file's directory, so a configuration means the same from any working
    /// directory.
    public static func load(path: String) throws(ConfigurationError) -> DaemonConfiguration {
        let text: String
        do {
            text = try TextFile.read(path: path)
        } catch {
            throw ConfigurationError(file: path, line: nil, key: "", message: error.description)
        }
        var configuration = try parse(text, file: path)
        configuration.resolveRelativePaths(against: directory(of: path))
        return configuration
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let directory = String(path[..<slash])
        return directory.isEmpty ? "/" : directory
    }
}

/// Walks the parsed tables. Values carry their own line numbers; for a key that is missing or
/// unknown the source text is searched for the key (or its table's header).
struct TableReader {
    let file: String
    let lines: [Substring]

    init(file: String, text: String) {
        self.file = file
        lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    }

    func error(_ key: String, _ message: String, name: String? = nil, at knownLine: Int? = nil) -> ConfigurationError {
        ConfigurationError(file: file, line: knownLine ?? line(of: name ?? key.split(separator: ".").last.map(String.init) ?? key), key: key, message: message)
    }

    /// The first line defining `name` as a key or a table header.
    func line(of name: String) -> Int? {
        for (index, raw) in lines.enumerated() {
            let line = raw.drop { $0 == " " || $0 == "\t" }
            if line.hasPrefix("#") { continue }
            if line.hasPrefix("[") {
                let header = line.filter { $0 != "[" && $0 != "]" && $0 != " " }
                if header == name || header.hasSuffix("." + name) { return index + 1 }
                continue
            }
            for candidate in [name, "\"\(name)\""] where line.hasPrefix(candidate) {
                let rest = line.dropFirst(candidate.count).drop { $0 == " " || $0 == "\t" }
                if rest.hasPrefix("=") { return index + 1 }
            }
        }
        return nil
    }

    func checkKeys(_ table: TOMLTable, allowed: Set<String>, path: String) throws(ConfigurationError) {
        for key in table.keys.sorted() where !allowed.contains(key) {
            let full = path.isEmpty ? key : "\(path).\(key)"
            throw error(full, "unknown key (allowed here: \(allowed.sorted().joined(separator: ", ")))", name: key, at: table[key]?.line)
        }
    }

    func string(_ table: TOMLTable, _ key: String, path: String) throws(ConfigurationError) -> String? {
        guard let value = table[key] else { return nil }
        guard let text = value.string else { throw error("\(path).\(key)", "expected a string, found \(value.kindName)", at: value.line) }
        return text
    }

    func integer(_ table: TOMLTable, _ key: String, path: String, range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
        guard let value = table[key] else { return nil }
        guard let number = value.int else { throw error("\(path).\(key)", "expected an integer, found \(value.kindName)", at: value.line) }
        guard range.contains(number) else { throw error("\(path).\(key)", "\(number) is outside \(range.lowerBound)...\(range.upperBound)", at: value.line) }
        return number
    }

    /// `leap-smear = "linear" | "cosine" | "none"` and its `leap-smear-window-seconds`.
    func leapSmear(_ table: TOMLTable, path: String) throws(ConfigurationError) -> LeapSmear? {
        let range = Int(LeapSmear.windowRange.lowerBound)...Int(LeapSmear.windowRange.upperBound)
        let window = try integer(table, "leap-smear-window-seconds", path: path, range: range)
        guard let name = try string(table, "leap-smear", path: path), name != "none" else {
            if window != nil {
                throw error("\(path).leap-smear-window-seconds", "only means something with leap-smear = \"linear\" or \"cosine\"", at: table["leap-smear-window-seconds"]?.line)
            }
            return nil
        }
        guard let shape = LeapSmear.Shape(rawValue: name) else {
            throw error("\(path).leap-smear", "expected \"linear\", \"cosine\" or \"none\"", at: table["leap-smear"]?.line)
        }
        return LeapSmear(shape: shape, windowSeconds: Int64(window ?? Int(LeapSmear.defaultWindowSeconds)))
    }

    func bool(_ table: TOMLTable, _ key: String, path: String) throws(ConfigurationError) -> Bool? {
        guard let value = table[key] else { return nil }
        guard let flag = value.bool else { throw error("\(path).\(key)", "expected true or false, found \(value.kindName)", at: value.line) }
        return flag
    }

    func required(_ table: TOMLTable, _ key: String, path: String) throws(ConfigurationError) -> String {
        guard let text = try string(table, key, path: path) else {
            throw ConfigurationError(file: file, line: line(of: path.split(separator: "[").first.map(String.init) ?? path), key: "\(path).\(key)", message: "missing (required)")
        }
        return text
    }

    func listenAddress(_ table: TOMLTable, path: String, key: String = "listen") throws(ConfigurationError) -> SocketAddress {
        let text = try required(table, key, path: path)
        guard let address = ListenAddressSyntax.parse(text) else {
            throw error("\(path).\(key)", "\"\(text)\" is not an IP address with a port, like 127.0.0.1:123 or [::1]:123", at: table[key]?.line)
        }
        return address
    }

    /// A number of seconds (or ppm): a TOML float or integer, finite and within `range`.
    func seconds(_ table: TOMLTable, _ key: String, path: String, range: ClosedRange<Double>) throws(ConfigurationError) -> Double? {
        guard let value = table[key] else { return nil }
        let number: Double
        if let float = value.double {
            number = float
        } else if let integer = value.int {
            number = Double(integer)
        } else {
            throw error("\(path).\(key)", "expected a number, found \(value.kindName)", at: value.line)
        }
        guard number.isFinite, range.contains(number) else {
            throw error("\(path).\(key)", "\(number) is outside \(range.lowerBound)...\(range.upperBound)", at: value.line)
        }
        return number
    }

    func pollKeys(_ table: TOMLTable, path: String) throws(ConfigurationError) -> SourcePollKeys {
        let range = PollSettings.supportedLog2
        return SourcePollKeys(
            minpoll: try integer(table, "minpoll", path: path, range: range),
            maxpoll: try integer(table, "maxpoll", path: path, range: range),
            iburst: try bool(table, "iburst", path: path),
            burst: try bool(table, "burst", path: path)
        )
    }

    /// The poll settings of a source (or of the defaults alone), refused when minpoll > maxpoll.
    func polling(_ keys: SourcePollKeys, table: TOMLTable, path: String) throws(ConfigurationError) -> PollSettings {
        guard let settings = SourcePolling.resolve(keys) else {
            let key = table["maxpoll"] != nil ? "maxpoll" : "minpoll"
            throw error("\(path).\(key)", "minpoll \(keys.minpoll ?? SourcePolling.defaults.limits.lowerBound) is above maxpoll \(keys.maxpoll ?? SourcePolling.defaults.limits.upperBound)", at: table[key]?.line ?? table["minpoll"]?.line)
        }
        return settings
    }

    func source(_ table: TOMLTable, path: String, defaults: SourcePollKeys) throws(ConfigurationError) -> SourceSection {
        try checkKeys(table, allowed: ["mode", "address", "ke-port", "ca-file", "count", "minpoll", "maxpoll", "iburst", "burst"], path: path)
        let modeText = try string(table, "mode", path: path) ?? "server"
        guard let mode = SourceSection.Mode(rawValue: modeText) else {
            throw error("\(path).mode", "\"\(modeText)\" is not one of \(SourceSection.Mode.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))", at: table["mode"]?.line)
        }
        let addressText = try required(table, "address", path: path)
        guard let (host, port) = SourceAddressSyntax.parse(addressText) else {
            throw error("\(path).address", "\"\(addressText)\" is not a host name or IP address with an optional port, like time.example.org, 192.0.2.1:123 or [2001:db8::1]:123", at: table["address"]?.line)
        }
        var section = SourceSection(mode: mode, host: host, port: port)
        for key in ["ke-port", "ca-file"] where mode != .nts && table[key] != nil {
            throw error("\(path).\(key)", "applies to mode = \"nts\" only", at: table[key]?.line)
        }
        if mode != .pool && table["count"] != nil {
            throw error("\(path).count", "applies to mode = \"pool\" only", at: table["count"]?.line)
        }
        if let port = try integer(table, "ke-port", path: path, range: 1...65_535) { section.keyExchangePort = UInt16(port) }
        section.caFile = try string(table, "ca-file", path: path)
        section.count = try integer(table, "count", path: path, range: 1...16) ?? 4
        section.polling = try polling(try pollKeys(table, path: path).over(defaults), table: table, path: path)
        return section
    }

    func prefixes(_ table: TOMLTable, _ key: String, path: String) throws(ConfigurationError) -> [AddressPrefix] {
        guard let value = table[key] else { return [] }
        guard let array = value.array else { throw error("\(path).\(key)", "expected an array of CIDR prefixes", at: value.line) }
        var result: [AddressPrefix] = []
        for element in array {
            guard let text = element.string else { throw error("\(path).\(key)", "expected an array of CIDR prefixes", at: element.line) }
            do { result.append(try AddressPrefix(parsing: text)) } catch {
                throw self.error("\(path).\(key)", "\"\(text)\" is not an address prefix like 192.0.2.0/24 or 2001:db8::/32")
            }
        }
        return result
    }

    func tables(_ root: TOMLTable, _ key: String) throws(ConfigurationError) -> [TOMLTable] {
        guard let value = root[key] else { return [] }
        guard let array = value.array else { throw error(key, "expected an array of tables: write [[\(key)]]", at: value.line) }
        var result: [TOMLTable] = []
        for element in array {
            guard let table = element.table else { throw error(key, "expected an array of tables: write [[\(key)]]", at: element.line) }
            result.append(table)
        }
        return result
    }

    mutating func configuration(from root: TOMLTable) throws(ConfigurationError) -> DaemonConfiguration {
        try checkKeys(root, allowed: ["server", "nts-ke-server", "keyset", "synchronization", "source", "source-defaults", "clock", "observability"], path: "")
        var configuration = DaemonConfiguration()

        for (index, table) in try tables(root, "server").enumerated() {
            let path = "server[\(index)]"
            try checkKeys(table, allowed: [
                "listen", "allow", "deny", "deny-action", "rate-limit-interval-ms", "rate-limit-burst", "require-nts", "workers", "leap-smear",
                "leap-smear-window-seconds",
            ], path: path)
            var section = NTPServerSection(listen: try listenAddress(table, path: path))
            section.allow = try prefixes(table, "allow", path: path)
            section.deny = try prefixes(table, "deny", path: path)
            if let action = try string(table, "deny-action", path: path) {
                guard let parsed = AccessPolicy.RefusalAction(rawValue: action) else {
                    throw error("\(path).deny-action", "expected \"kiss\" or \"drop\"", at: table["deny-action"]?.line)
                }
                section.denyAction = parsed
            }
            let interval = try integer(table, "rate-limit-interval-ms", path: path, range: 0...3_600_000)
            let burst = try integer(table, "rate-limit-burst", path: path, range: 1...1_000_000)
            if interval == 0 {
                section.rateLimit = nil
            } else {
                var limit = RateLimiter.Configuration()
                if let interval { limit.minimumIntervalNanoseconds = Int64(interval) * 1_000_000 }
                if let burst { limit.burst = Int64(burst) }
                section.rateLimit = limit
            }
            section.requireNTS = try bool(table, "require-nts", path: path) ?? false
            section.workers = try integer(table, "workers", path: path, range: 1...256)
            section.leapSmear = try leapSmear(table, path: path)
            configuration.servers.append(section)
        }

        for (index, table) in try tables(root, "nts-ke-server").enumerated() {
            let path = "nts-ke-server[\(index)]"
            try checkKeys(table, allowed: ["listen", "certificate-chain-path", "private-key-path", "ntp-port", "ntp-server", "timeout-seconds", "max-connections", "max-connections-per-address", "max-connections-per-network", "rate-limit-interval-ms", "rate-limit-burst"], path: path)
            var section = NTSKEServerSection(
                listen: try listenAddress(table, path: path),
                certificateChainPath: try required(table, "certificate-chain-path", path: path),
                privateKeyPath: try required(table, "private-key-path", path: path)
            )
            section.ntpPort = try integer(table, "ntp-port", path: path, range: 1...65_535).map { UInt16($0) }
            section.ntpServer = try string(table, "ntp-server", path: path)
            section.timeoutSeconds = Int64(try integer(table, "timeout-seconds", path: path, range: 1...300) ?? 5)
            section.maximumConnections = try integer(table, "max-connections", path: path, range: 1...100_000) ?? 512
            section.maximumConnectionsPerAddress = try integer(table, "max-connections-per-address", path: path, range: 1...100_000) ?? 8
            section.maximumConnectionsPerNetwork = try integer(table, "max-connections-per-network", path: path, range: 1...100_000) ?? 64
            section.rateLimitIntervalMilliseconds = Int64(try integer(table, "rate-limit-interval-ms", path: path, range: 0...3_600_000) ?? 125)
            section.rateLimitBurst = try integer(table, "rate-limit-burst", path: path, range: 1...100_000) ?? 32
            configuration.ntsKEServers.append(section)
        }

        if let value = root["keyset"] {
            guard let table = value.table else { throw error("keyset", "expected a table: write [keyset]") }
            try checkKeys(table, allowed: ["key-storage-path", "rotation-period-seconds", "stale-key-count"], path: "keyset")
            var section = KeysetSection(keyStoragePath: try required(table, "key-storage-path", path: "keyset"))
            section.rotationPeriodSeconds = Int64(try integer(table, "rotation-period-seconds", path: "keyset", range: 1...(366 * 86_400)) ?? 86_400)
            section.staleKeyCount = try integer(table, "stale-key-count", path: "keyset", range: 0...255) ?? 7
            configuration.keyset = section
        }

        if let value = root["synchronization"] {
            guard let table = value.table else { throw error("synchronization", "expected a table: write [synchronization]") }
            try checkKeys(table, allowed: [
                "local-stratum", "minimum-agreeing-sources", "step-threshold-seconds", "panic-threshold-seconds",
                "startup-step-threshold-seconds", "startup-panic-threshold-seconds", "certificate-time-check",
            ], path: "synchronization")
            let path = "synchronization"
            var section = SynchronizationSection()
            section.localStratum = try integer(table, "local-stratum", path: path, range: 1...15).map { UInt8($0) }
            section.minimumAgreeingSources = try integer(table, "minimum-agreeing-sources", path: path, range: 1...64)
            section.stepThresholdSeconds = try seconds(table, "step-threshold-seconds", path: path, range: 0.000_001...1e9)
            section.panicThresholdSeconds = try seconds(table, "panic-threshold-seconds", path: path, range: 0.000_001...1e9)
            section.startupStepThresholdSeconds = try seconds(table, "startup-step-threshold-seconds", path: path, range: 0.000_001...1e9)
            section.startupPanicThresholdSeconds = try seconds(table, "startup-panic-threshold-seconds", path: path, range: 0.000_001...1e9)
            if let check = try string(table, "certificate-time-check", path: path) {
                guard let policy = CertificateTimePolicy(rawValue: check) else {
                    throw error("\(path).certificate-time-check", "\"\(check)\" is not one of \(CertificateTimePolicy.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))", at: table["certificate-time-check"]?.line)
                }
                section.certificateTimeCheck = policy
            }
            if let step = section.stepThresholdSeconds, let panic = section.panicThresholdSeconds, panic < step {
                throw error("\(path).panic-threshold-seconds", "\(panic) is below step-threshold-seconds \(step)", at: table["panic-threshold-seconds"]?.line)
            }
            configuration.synchronization = section
        }

        var sourceDefaults = SourcePollKeys()
        if let value = root["source-defaults"] {
            guard let table = value.table else { throw error("source-defaults", "expected a table: write [source-defaults]") }
            try checkKeys(table, allowed: ["minpoll", "maxpoll", "iburst", "burst"], path: "source-defaults")
            sourceDefaults = try pollKeys(table, path: "source-defaults")
            _ = try polling(sourceDefaults, table: table, path: "source-defaults")
        }
        for (index, table) in try tables(root, "source").enumerated() {
            configuration.sources.append(try source(table, path: "source[\(index)]", defaults: sourceDefaults))
        }

        if let value = root["clock"] {
            guard let table = value.table else { throw error("clock", "expected a table: write [clock]") }
            try checkKeys(table, allowed: ["kind", "initial-offset-seconds", "initial-frequency-ppm", "drift-file", "leap-seconds-file"], path: "clock")
            if let kind = try string(table, "kind", path: "clock") {
                guard let parsed = ClockSection.Kind(rawValue: kind) else {
                    throw error("clock.kind", "\"\(kind)\" is not one of \(ClockSection.Kind.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))", at: table["kind"]?.line)
                }
                configuration.clock.kind = parsed
            }
            configuration.clock.initialOffsetSeconds = try seconds(table, "initial-offset-seconds", path: "clock", range: -1e9...1e9) ?? 0
            configuration.clock.initialFrequencyPPM = try seconds(table, "initial-frequency-ppm", path: "clock", range: -1000...1000) ?? 0
            if let driftFile = try string(table, "drift-file", path: "clock") {
                guard !driftFile.isEmpty, !driftFile.hasSuffix("/") else {
                    throw error("clock.drift-file", "\"\(driftFile)\" is not a file path", at: table["drift-file"]?.line)
                }
                configuration.clock.driftFile = driftFile
            }
            if let leapFile = try string(table, "leap-seconds-file", path: "clock") {
                guard leapFile == "none" || (leapFile.hasPrefix("/") && !leapFile.hasSuffix("/")) else {
                    throw error("clock.leap-seconds-file", "\"\(leapFile)\" is neither an absolute file path nor \"none\"", at: table["leap-seconds-file"]?.line)
                }
                configuration.clock.leapSeconds = leapFile == "none" ? .none : .file(leapFile)
            }
        }

        if let value = root["observability"] {
            guard let table = value.table else { throw error("observability", "expected a table: write [observability]") }
            try checkKeys(table, allowed: ["observation-path", "metrics-listen", "log-level", "bounds-path"], path: "observability")
            configuration.observability.observationPath = try string(table, "observation-path", path: "observability")
            if let path = configuration.observability.observationPath, path.isEmpty {
                throw error("observability.observation-path", "must not be empty", at: table["observation-path"]?.line)
            }
            if let path = try string(table, "bounds-path", path: "observability") {
                guard !path.isEmpty, !path.hasSuffix("/") else {
                    throw error("observability.bounds-path", "\"\(path)\" is not a file path", at: table["bounds-path"]?.line)
                }
                configuration.observability.boundsPath = path
            }
            if table["metrics-listen"] != nil {
                configuration.observability.metricsListen = try listenAddress(table, path: "observability", key: "metrics-listen")
            }
            if let level = try string(table, "log-level", path: "observability") {
                guard let parsed = ObservabilitySection.LogLevel(rawValue: level) else {
                    throw error("observability.log-level", "\"\(level)\" is not one of \(ObservabilitySection.LogLevel.allCases.map(\.rawValue).joined(separator: ", "))", at: table["log-level"]?.line)
                }
                configuration.observability.logLevel = parsed
            }
        }

        if !configuration.ntsKEServers.isEmpty && configuration.keyset == nil {
            throw ConfigurationError(file: file, line: line(of: "nts-ke-server"), key: "keyset", message: "an [[nts-ke-server]] needs [keyset] key-storage-path so cookies survive a restart")
        }
        return configuration
    }
}
