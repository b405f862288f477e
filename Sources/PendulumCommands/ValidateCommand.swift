import ArgumentParser
import PendulumDaemonConfig

#if canImport(Glibc)
    import Glibc
#endif

/// `pendulum validate FILE`: checks a pendulum-ntpd configuration without starting anything,
/// with the daemon's own parser.
@available(macOS 13, *)
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a pendulum-ntpd configuration file without starting anything.",
        discussion: "Exit status 0 when the file is valid, 2 with one line naming the file, line and key when it is not."
    )

    @Argument(help: "The TOML configuration file.") var file: String

    func run() throws {
        do {
            let parsed = try DaemonConfigurationParser.load(path: file)
            let sources = parsed.sources.map { "\($0.mode.rawValue) \($0.host)" }
            let clock = parsed.clock.kind?.rawValue ?? "system if privileged, else overlay"
            print("\(file): valid (\(parsed.sources.count) source(s)\(sources.isEmpty ? "" : ": " + sources.joined(separator: ", ")); clock \(clock); \(parsed.servers.count) NTP server(s), \(parsed.ntsKEServers.count) NTS-KE server(s), keyset \(parsed.keyset == nil ? "none" : "configured"))")
            for warning in parsed.warnings { print("warning: \(warning)") }
        } catch {
            var line = "\(error)\n"
            line.withUTF8 { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
            throw ExitCode(2)
        }
    }
}
