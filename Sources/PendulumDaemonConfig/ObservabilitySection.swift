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

    public init() {}
}
