import PendulumIO
import PendulumNTPServer
import TOMLKit

/// Reads the TOML configuration. Keys are kebab-case; any key the daemon does not know is an
/// error naming it (a typo must not silently fall back to a default).
public enum DaemonConfigurationParser {
    public static func parse(_ text: String, file: String) throws(ConfigurationError) -> DaemonConfiguration {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigurationError(file: file, line: error.source.begin.line, key: "", message: "not valid TOML: \(error.description)")
        } catch {
            throw ConfigurationError(file: file, line: nil, key: "", message: "not valid TOML: \(error)")
        }
        var reader = TableReader(file: file, text: text)
        return try reader.configuration(from: table)
    }

    /// Reads and parses a file. Relative paths in it (certificate, key, key file) are taken
    /// relative to the file's directory, so a configuration means the same from any working
    /// directory.
    public static func load(path: String) throws(ConfigurationError) -> DaemonConfiguration {
        guard let text = TextFile.read(path: path) else {
            throw ConfigurationError(file: path, line: nil, key: "", message: "cannot read the file")
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

/// Walks the parsed tables, with the source text at hand to find line numbers (TOMLKit keeps
/// none for values, so the line is that of the key's first definition in the text).
struct TableReader {
    let file: String
    let lines: [Substring]

    init(file: String, text: String) {
        self.file = file
        lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    }

    func error(_ key: String, _ message: String, name: String? = nil) -> ConfigurationError {
        ConfigurationError(file: file, line: line(of: name ?? key.split(separator: ".").last.map(String.init) ?? key), key: key, message: message)
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
            throw error(full, "unknown key (allowed here: \(allowed.sorted().joined(separator: ", ")))", name: key)
        }
    }

    func string(_ table: TOMLTable, _ key: String, path: String) throws(ConfigurationError) -> String? {
        guard let value = table[key] else { return nil }
        guard let text = value.string else { throw error("\(path).\(key)", "expected a string") }
        return text
    }

    func integer(_ table: TOMLTable, _ key: String, path: String, range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
        guard let value = table[key] else { return nil }
        guard let number = value.int else { throw error("\(path).\(key)", "expected an integer") }
        guard range.contains(number) else { throw error("\(path).\(key)", "\(number) is outside \(range.lowerBound)...\(range.upperBound)") }
        return number
    }

    func bool(_ table: TOMLTable, _ key: String, path: String) throws(ConfigurationError) -> Bool? {
        guard let value = table[key] else { return nil }
        guard let flag = value.bool else { throw error("\(path).\(key)", "expected true or false") }
        return flag
    }

    func required(_ table: TOMLTable, _ key: String, path: String) throws(ConfigurationError) -> String {
        guard let text = try string(table, key, path: path) else {
            throw ConfigurationError(file: file, line: line(of: path.split(separator: "[").first.map(String.init) ?? path), key: "\(path).\(key)", message: "missing (required)")
        }
        return text
    }

    func listenAddress(_ table: TOMLTable, path: String) throws(ConfigurationError) -> SocketAddress {
        let text = try required(table, "listen", path: path)
        guard let address = ListenAddressSyntax.parse(text) else {
            throw error("\(path).listen", "\"\(text)\" is not an IP address with a port, like 127.0.0.1:123 or [::1]:123")
        }
        return address
    }

    func prefixes(_ table: TOMLTable, _ key: String, path: String) throws(ConfigurationError) -> [AddressPrefix] {
        guard let value = table[key] else { return [] }
        guard let array = value.array else { throw error("\(path).\(key)", "expected an array of CIDR prefixes") }
        var result: [AddressPrefix] = []
        for element in array {
            guard let text = element.string else { throw error("\(path).\(key)", "expected an array of CIDR prefixes") }
            do { result.append(try AddressPrefix(parsing: text)) } catch {
                throw self.error("\(path).\(key)", "\"\(text)\" is not an address prefix like 192.0.2.0/24 or 2001:db8::/32")
            }
        }
        return result
    }

    func tables(_ root: TOMLTable, _ key: String) throws(ConfigurationError) -> [TOMLTable] {
        guard let value = root[key] else { return [] }
        guard let array = value.array else { throw error(key, "expected an array of tables: write [[\(key)]]") }
        var result: [TOMLTable] = []
        for element in array {
            guard let table = element.table else { throw error(key, "expected an array of tables: write [[\(key)]]") }
            result.append(table)
        }
        return result
    }

    mutating func configuration(from root: TOMLTable) throws(ConfigurationError) -> DaemonConfiguration {
        try checkKeys(root, allowed: ["server", "nts-ke-server", "keyset", "synchronization"], path: "")
        var configuration = DaemonConfiguration()

        for (index, table) in try tables(root, "server").enumerated() {
            let path = "server[\(index)]"
            try checkKeys(table, allowed: ["listen", "allow", "deny", "deny-action", "rate-limit-interval-ms", "rate-limit-burst", "require-nts", "workers"], path: path)
            var section = NTPServerSection(listen: try listenAddress(table, path: path))
            section.allow = try prefixes(table, "allow", path: path)
            section.deny = try prefixes(table, "deny", path: path)
            if let action = try string(table, "deny-action", path: path) {
                guard let parsed = AccessPolicy.RefusalAction(rawValue: action) else {
                    throw error("\(path).deny-action", "expected \"kiss\" or \"drop\"")
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
            configuration.servers.append(section)
        }

        for (index, table) in try tables(root, "nts-ke-server").enumerated() {
            let path = "nts-ke-server[\(index)]"
            try checkKeys(table, allowed: ["listen", "certificate-chain-path", "private-key-path", "ntp-port", "ntp-server", "timeout-seconds", "max-connections"], path: path)
            var section = NTSKEServerSection(
                listen: try listenAddress(table, path: path),
                certificateChainPath: try required(table, "certificate-chain-path", path: path),
                privateKeyPath: try required(table, "private-key-path", path: path)
            )
            section.ntpPort = try integer(table, "ntp-port", path: path, range: 1...65_535).map { UInt16($0) }
            section.ntpServer = try string(table, "ntp-server", path: path)
            section.timeoutSeconds = Int64(try integer(table, "timeout-seconds", path: path, range: 1...300) ?? 5)
            section.maximumConnections = try integer(table, "max-connections", path: path, range: 1...100_000) ?? 512
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
            try checkKeys(table, allowed: ["local-stratum"], path: "synchronization")
            configuration.synchronization.localStratum = try integer(table, "local-stratum", path: "synchronization", range: 1...15).map { UInt8($0) }
        }

        if !configuration.ntsKEServers.isEmpty && configuration.keyset == nil {
            throw ConfigurationError(file: file, line: line(of: "nts-ke-server"), key: "keyset", message: "an [[nts-ke-server]] needs [keyset] key-storage-path so cookies survive a restart")
        }
        return configuration
    }
}
