/// One server of a `DisciplinedClock`, as its engine sees it now: the evidence behind the time.
public struct DisciplinedSourceStatus: Sendable, Hashable {
    public var server: TimeServer
    /// The address answering (for NTS: the NTP server its key exchange named).
    public var address: String?
    public var reachable: Bool
    /// This machine's disciplined clock minus the server's, as last estimated, s.
    public var offsetSeconds: Double?
    public var delaySeconds: Double?
    public var uncertaintySeconds: Double?
    /// The poll interval in force, log2 s.
    public var pollLog2: Int?
    /// The source whose stratum and reference this clock takes; the time itself combines every
    /// source that is not outvoted.
    public var primary: Bool
    /// Outvoted: its answers disagree with the majority's.
    public var falseticker: Bool
    /// Why the last exchange (or key exchange) failed, if it did.
    public var lastError: String?
}
