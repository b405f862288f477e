/// A reason the daemon cannot start or keep running, worded for the operator.
public enum DaemonError: Error, Sendable, CustomStringConvertible {
    case startup(String)

    public var description: String {
        switch self {
        case .startup(let message): message
        }
    }
}
