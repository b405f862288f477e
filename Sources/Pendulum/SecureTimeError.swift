/// One server that gave no usable time, and why.
public struct ServerFailureReport: Sendable, Hashable, CustomStringConvertible {
    public var server: TimeServer
    public var failure: TimeServerFailure

    public var description: String { "\(server.host): \(failure)" }
}

/// Why `SecureTime` has no time to give. `code` is stable for programs; `description` is one
/// line for people.
public enum SecureTimeError: Error, Sendable, Hashable, CustomStringConvertible {
    case noServers
    case invalidOptions(String)
    /// No server answered usefully.
    case noAnswer([ServerFailureReport])
    /// Answers came, but not enough of them agree: `largestGroup` agreed, `needed` were asked for.
    case noAgreement(answered: [ServerMeasurement], largestGroup: Int, needed: Int, failures: [ServerFailureReport])
    case cancelled

    public var code: String {
        switch self {
        case .noServers: "no-servers"
        case .invalidOptions: "invalid-options"
        case .noAnswer: "no-answer"
        case .noAgreement: "no-agreement"
        case .cancelled: "cancelled"
        }
    }

    public var description: String {
        switch self {
        case .noServers: "no servers to ask"
        case .invalidOptions(let reason): "invalid options: \(reason)"
        case .noAnswer(let failures): "no server answered: " + failures.map(\.description).joined(separator: "; ")
        case .noAgreement(let answered, let largestGroup, let needed, _):
            "servers disagree: at most \(largestGroup) of \(answered.count) answering agree, \(needed) needed ("
                + answered.map { "\($0.server.host) \($0.offset)" }.joined(separator: ", ") + ")"
        case .cancelled: "cancelled"
        }
    }
}
