#if canImport(Glibc)
import Glibc
#endif
import PendulumDaemonConfig
import PendulumNTPDaemon

/// `pendulum-ntpd --config FILE`. Exit status: 0 after a clean stop, 2 for a bad command line
/// or configuration, 1 when the daemon cannot start (busy port, unreadable certificate,
/// corrupt key file).
@main
struct NTPDaemonMain {
    static func main() async {
        let stopSignals = Daemon.installStopSignalHandlers()
        let arguments = Array(CommandLine.arguments.dropFirst())
        guard arguments.count == 2, arguments[0] == "--config" else {
            if arguments == ["--help"] || arguments == ["-h"] {
                print("usage: pendulum-ntpd --config FILE.toml")
                exit(0)
            }
            Daemon.log("usage: pendulum-ntpd --config FILE.toml")
            exit(2)
        }
        let configuration: DaemonConfiguration
        do {
            configuration = try DaemonConfigurationParser.load(path: arguments[1])
        } catch {
            Daemon.log("bad configuration: \(error)")
            exit(2)
        }
        do {
            try await Daemon.run(configuration, stopSignals: stopSignals)
        } catch {
            Daemon.log("cannot run: \(error)")
            exit(1)
        }
    }
}
