import ArgumentParser
import PendulumNTPDaemon

#if canImport(Glibc)
    import Glibc
#endif

/// `pendulum ntpd [--config FILE]`: pendulum-ntpd itself, from this binary. Hidden: it is how
/// `pendulum demo` runs its server and client when only `pendulum` was built.
@available(macOS 13, *)
struct NTPDaemonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ntpd",
        abstract: "Run pendulum-ntpd from this binary (as `pendulum demo` does).",
        shouldDisplay: false
    )

    @Option(help: "The TOML configuration file.") var config: String?

    func run() async throws {
        let status = await DaemonCommandLine.run(arguments: config.map { ["--config", $0] } ?? [])
        if status != 0 { throw ExitCode(status) }
    }
}
