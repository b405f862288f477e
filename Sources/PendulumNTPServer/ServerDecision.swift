import PendulumNTP

/// What to do with one request datagram.
public enum ServerDecision: Sendable, Hashable {
    /// Send these bytes (a mode 4 answer, plain or NTS).
    case respond([UInt8])
    /// Send this kiss-o'-death (RATE, DENY or RSTR).
    case kissOfDeath([UInt8], KissCode)
    /// Send this NTS NAK: the cookie's key is unknown, the client must run NTS-KE again.
    case ntsNak([UInt8])
    /// Send nothing.
    case drop(ServerDropReason)

    /// The bytes to send, if any.
    public var reply: [UInt8]? {
        switch self {
        case .respond(let bytes), .kissOfDeath(let bytes, _), .ntsNak(let bytes): bytes
        case .drop: nil
        }
    }

    public var outcome: ServerOutcome {
        switch self {
        case .respond: .responded
        case .kissOfDeath(_, let code): .kiss(code)
        case .ntsNak: .ntsNak
        case .drop(let reason): .dropped(reason)
        }
    }
}

public enum KissCode: String, Sendable, Hashable, CaseIterable {
    case rate = "RATE"
    case deny = "DENY"
    case restrict = "RSTR"

    var referenceID: ReferenceID { ReferenceID(ascii: rawValue) }
}

/// Why a request got no answer at all.
public enum ServerDropReason: String, Sendable, Hashable, CaseIterable {
    /// Shorter than a header, or a body that is not extension fields or a MAC.
    case malformed
    /// Larger than the server accepts.
    case oversized
    /// Any mode but 3 (client): never answered, so the server cannot amplify or be looped.
    case wrongMode
    /// Version 0 or above 4.
    case unsupportedVersion
    /// Over the client's rate and a RATE kiss was already sent recently.
    case rateLimited
    /// On the deny list (or off the allow list) with the policy set to stay silent.
    case denied
    /// An NTS request that failed its checks (bad authenticator, no cookie, ...).
    case ntsInvalid
    /// An NTS request while this server has no keyset.
    case ntsUnavailable
}

/// The class a request was counted in.
public enum ServerOutcome: Sendable, Hashable {
    case responded
    case kiss(KissCode)
    case ntsNak
    case dropped(ServerDropReason)
}
