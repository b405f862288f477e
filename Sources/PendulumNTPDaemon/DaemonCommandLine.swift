#if canImport(Glibc)
import Glibc
#endif
import PendulumDaemonConfig
import PendulumFiles
import PendulumSync

/// `pendulum-ntpd [--config FILE]` as a function, so `pendulum demo` can run the very same
/// daemon from its own binary (`swift run pendulum demo` builds only `pendulum`). Returns the
/// exit status: 0 after a clean stop, 2 for a bad command line or configuration, 1 when the
/// daemon cannot start (busy port, unreadable certificate, corrupt key file, no permission to
/// steer the system clock).
package enum DaemonCommandLine {
    package static let usage = """
        usage: pendulum-ntpd [--config FILE.toml] | --version
        Without --config: a client of package NTS servers, steering the system clock when it has
        CAP_SYS_TIME and an overlay clock otherwise. See pendulum-ntpd(8) and pendulum-ntpd.toml(5).
        """

    package static func run(arguments: [String]) async -> Int32 {
        let stopSignals = Daemon.installStopSignalHandlers()
        let configuration: DaemonConfiguration
        var configurationFile: (path: String, bytes: [UInt8])?
        switch arguments.count {
        case 0:
            let path = ObservationServer.defaultPath(forUser: getuid())
            configuration = DefaultConfiguration.make(observationPath: path)
            Daemon.setUpLogging(level: .info)
            Daemon.log("no --config: using the package NTS servers \(DefaultConfiguration.publicNTSServers.joined(separator: ", ")); status: pendulum status --socket \(path)")
        case 1 where arguments[0] == "--help" || arguments[0] == "-h":
            print(usage)
            return 0
        case 1 where arguments[0] == "--version":
            print(PendulumRelease.versionLine(program: "pendulum-ntpd"))
            return 0
        case 2 where arguments[0] == "--config":
            do {
                configuration = try DaemonConfigurationParser.load(path: arguments[1])
            } catch {
                Daemon.log("bad configuration: \(error)")
                return 2
            }
            Daemon.setUpLogging(level: configuration.observability.logLevel)
            // As read at the start, for SIGHUP to tell whether it changed since.
            configurationFile = (try? RegularFile.read(path: arguments[1], limit: DaemonConfigurationParser.maximumFileBytes)).map { (arguments[1], $0) }
        default:
            Daemon.log(usage)
            return 2
        }
        do {
            try await Daemon.run(configuration, stopSignals: stopSignals, configurationFile: configurationFile)
            return 0
        } catch {
            Daemon.log("cannot run: \(error)")
            return 1
        }
    }
}
