/// Why one server gave no usable time. Each case has a stable `code` for programs and a
/// `description` for people, naming the server.
public enum TimeServerFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// The name did not resolve.
    case resolution(String)
    /// NTS key establishment failed (TLS, certificate, or the NTS-KE records).
    case keyExchange(String)
    /// A socket call failed.
    case system(String)
    /// Nothing listens at that address (ICMP port unreachable).
    case refused(address: String)
    case noReply(address: String, timeout: Duration)
    /// The server answered our request with a kiss-o'-death or a time it says is unusable.
    case rejected(address: String, reason: String)
    /// The server did not accept our NTS cookie.
    case ntsNAK(address: String)
    case ntsOutOfCookies(address: String)
    /// The caller's task was cancelled.
    case cancelled

    public var code: String {
        switch self {
        case .resolution: "resolution"
        case .keyExchange: "nts-ke"
        case .system: "system"
        case .refused: "refused"
        case .noReply: "no-reply"
        case .rejected: "rejected"
        case .ntsNAK: "nts-nak"
        case .ntsOutOfCookies: "nts-out-of-cookies"
        case .cancelled: "cancelled"
        }
    }

    public var description: String {
        switch self {
        case .resolution(let reason), .keyExchange(let reason), .system(let reason): reason
        case .refused(let address): "no NTP server at \(address) (connection refused)"
        case .noReply(let address, let timeout): "no reply from \(address) within \(timeout.secondsText) s"
        case .rejected(let address, let reason): "\(address): \(reason)"
        case .ntsNAK(let address): "\(address): server refused our NTS cookie (NTS NAK)"
        case .ntsOutOfCookies(let address): "\(address): out of NTS cookies (the server returned none)"
        case .cancelled: "cancelled"
        }
    }
}
