/// Why a `DisciplinedClock` cannot start, or has no time yet. `code` is stable for programs;
/// `description` is one line for people.
public enum DisciplinedClockError: Error, Sendable, Hashable, CustomStringConvertible {
    case noServers
    case invalidOptions(String)
    /// The engine's thread could not be started.
    case cannotStart(String)
    /// Not synchronised within the time asked for; the sources as they stood then.
    case notSynchronized(after: Duration, sources: [DisciplinedSourceStatus])
    case cancelled
    /// `stop()` was called.
    case stopped

    public var code: String {
        switch self {
        case .noServers: "no-servers"
        case .invalidOptions: "invalid-options"
        case .cannotStart: "cannot-start"
        case .notSynchronized: "not-synchronized"
        case .cancelled: "cancelled"
        case .stopped: "stopped"
        }
    }

    public var description: String {
        switch self {
        case .noServers: "no servers to follow"
        case .invalidOptions(let reason): "invalid options: \(reason)"
        case .cannotStart(let reason): "cannot start the clock's engine: \(reason)"
        case .notSynchronized(let after, let sources):
            "not synchronised after \(after): "
                + sources.map { source in
                    let state = source.falseticker ? "outvoted" : source.reachable ? "reachable" : "unreachable"
                    return "\(source.server) \(state)" + (source.lastError.map { " (\($0))" } ?? "")
                }.joined(separator: "; ")
        case .cancelled: "cancelled"
        case .stopped: "the clock was stopped"
        }
    }
}
