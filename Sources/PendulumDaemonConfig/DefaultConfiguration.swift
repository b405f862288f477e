/// What `pendulum-ntpd` runs with when started without `--config`: a client of public NTS
/// servers from independent operators (so a single wrong one is outvoted), no serving, the
/// clock chosen by privilege (see the daemon), status on the usual socket.
public enum DefaultConfiguration {
    /// Well-known public NTS servers, each run by a different organisation.
    public static let publicNTSServers = ["time.cloudflare.com", "nts.netnod.se", "ptbtime1.ptb.de", "ntppool1.time.nl"]

    public static func make(observationPath: String) -> DaemonConfiguration {
        var configuration = DaemonConfiguration()
        configuration.sources = publicNTSServers.map { SourceSection(mode: .nts, host: $0) }
        configuration.observability.observationPath = observationPath
        return configuration
    }
}
