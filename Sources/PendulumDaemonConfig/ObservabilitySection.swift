import PendulumIO

/// `[observability]`: how the operator sees what the daemon does.
public struct ObservabilitySection: Sendable, Hashable {
    public enum LogLevel: String, Sendable, Hashable, CaseIterable {
        case trace, debug, info, notice, warning, error, critical
    }

    /// The Unix socket `pendulum status` reads; nil: none.
    public var observationPath: String?
    /// Where Prometheus scrapes `/metrics`; nil: no metrics endpoint.
    public var metricsListen: SocketAddress?
    public var logLevel: LogLevel = .info
    /// The file in which the client publishes its clock's error bound for other programs
    /// (bounded time, docs/bounded-time.md); nil: not published.
    public var boundsPath: String?

    public init() {}
}
