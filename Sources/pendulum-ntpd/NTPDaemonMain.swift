#if canImport(Glibc)
import Glibc
#endif
import PendulumNTPDaemon

/// `pendulum-ntpd [--config FILE]`: see `DaemonCommandLine`.
@main
struct NTPDaemonMain {
    static func main() async {
        exit(await DaemonCommandLine.run(arguments: Array(CommandLine.arguments.dropFirst())))
    }
}
