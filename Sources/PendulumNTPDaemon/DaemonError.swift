import PendulumIO

/// A reason the daemon cannot start or keep running, worded for the operator.
package enum DaemonError: Error, Sendable, CustomStringConvertible {
    case startup(String)

    package var description: String {
        switch self {
        case .startup(let message): message
        }
    }
}

extension DaemonThread {
    /// A daemon thread that cannot start is a start-up error like any other.
    static func starting(name: String, _ run: @escaping @Sendable () -> Void) throws(DaemonError) -> DaemonThread {
        do {
            return try DaemonThread(name: name, run)
        } catch {
            throw DaemonError.startup(error.description)
        }
    }
}
