/// How `SecureTime` asks: defaults fit an app at start-up (four requests per server, half a
/// second apart, five seconds in all).
public struct SecureTimeOptions: Sendable, Hashable {
    /// Requests per server; the least-delayed answer counts.
    public var samplesPerServer: Int
    public var interval: Duration
    /// For each server, key exchange and requests together.
    public var timeout: Duration
    /// How many servers must agree. The agreeing group must also be more than half of those
    /// that answered, so one wrong server among three is outvoted, and two that disagree give
    /// no answer at all rather than a guess.
    public var minimumAgreeing: Int

    public init(samplesPerServer: Int = 4, interval: Duration = .milliseconds(500), timeout: Duration = .seconds(5), minimumAgreeing: Int = 1) {
        self.samplesPerServer = samplesPerServer
        self.interval = interval
        self.timeout = timeout
        self.minimumAgreeing = minimumAgreeing
    }
}
