import PendulumDiscipline

/// One `[[source]]`: where the daemon gets its time.
public struct SourceSection: Sendable, Hashable {
    public enum Mode: String, Sendable, Hashable, CaseIterable {
        /// One NTP server, by name or address.
        case server
        /// A DNS name with many servers behind it: `count` of them are used at a time, and
        /// unreachable ones and falsetickers are replaced with fresh addresses.
        case pool
        /// One NTP server reached through NTS-KE (RFC 8915): authenticated time.
        case nts
    }

    public var mode: Mode
    /// A host name or an IP address, as written (IPv6 without brackets).
    public var host: String
    /// The port written in `address`. For `server` and `pool` it is the NTP port (default 123);
    /// for `nts` the NTP port to use if the NTS-KE server does not name one.
    public var port: UInt16?
    /// NTS only: the NTS-KE port (RFC 8915 default 4460).
    public var keyExchangePort: UInt16 = 4460
    /// NTS only: a PEM file of extra trust anchors, added to the system's.
    public var caFile: String?
    /// Pool only: how many of its servers to use at once.
    public var count = 4
    /// `minpoll`, `maxpoll`, `iburst` and `burst`, this source's own or from `[source-defaults]`.
    public var polling = SourcePolling.defaults

    public init(mode: Mode, host: String, port: UInt16? = nil) {
        self.mode = mode
        self.host = host
        self.port = port
    }

    /// How many associations this source makes: a pool stands for `count` servers.
    public var associationCount: Int { mode == .pool ? count : 1 }
}

/// `address = "…"` of a source: "time.example.org", "time.example.org:123", "192.0.2.1",
/// "[2001:db8::1]:123" or a bare "2001:db8::1".
public enum SourceAddressSyntax {
    public static func parse(_ text: String) -> (host: String, port: UInt16?)? {
        guard !text.isEmpty, !text.contains(where: { $0 == " " || $0 == "\t" || $0 == "/" }) else { return nil }
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard !host.isEmpty, host.contains(":") else { return nil }
            if rest.isEmpty { return (host, nil) }
            guard rest.hasPrefix(":"), let port = UInt16(rest.dropFirst()), port > 0 else { return nil }
            return (host, port)
        }
        let colons = text.filter { $0 == ":" }.count
        if colons > 1 { return (text, nil) }  // a bare IPv6 literal
        if colons == 1, let colon = text.firstIndex(of: ":") {
            let host = String(text[..<colon])
            guard !host.isEmpty, let port = UInt16(text[text.index(after: colon)...]), port > 0 else { return nil }
            return (host, port)
        }
        return (text, nil)
    }
}

/// Poll settings as written in `[source-defaults]` or a `[[source]]`: each key optional, a
/// source's own keys override the defaults' (as chrony's per-server options would).
public struct SourcePollKeys: Sendable, Hashable {
    public var minpoll: Int?
    public var maxpoll: Int?
    public var iburst: Bool?
    public var burst: Bool?

    public init(minpoll: Int? = nil, maxpoll: Int? = nil, iburst: Bool? = nil, burst: Bool? = nil) {
        self.minpoll = minpoll
        self.maxpoll = maxpoll
        self.iburst = iburst
        self.burst = burst
    }

    /// These keys where given, `defaults` elsewhere.
    public func over(_ defaults: SourcePollKeys) -> SourcePollKeys {
        SourcePollKeys(
            minpoll: minpoll ?? defaults.minpoll, maxpoll: maxpoll ?? defaults.maxpoll, iburst: iburst ?? defaults.iburst,
            burst: burst ?? defaults.burst)
    }
}

public enum SourcePolling {
    /// Without any poll keys: 16 s to 17 min, adaptive, with a start-up burst.
    public static let defaults = PollSettings(limits: 4...10, initialBurst: true)

    /// The settings the keys ask for; nil when minpoll ends up above maxpoll. A lone minpoll
    /// above the default maxpoll raises maxpoll with it (and a lone maxpoll below the default
    /// minpoll lowers minpoll), as chrony does.
    public static func resolve(_ keys: SourcePollKeys) -> PollSettings? {
        var lower = keys.minpoll ?? defaults.limits.lowerBound
        var upper = keys.maxpoll ?? defaults.limits.upperBound
        if keys.maxpoll == nil { upper = max(upper, lower) }
        if keys.minpoll == nil { lower = min(lower, upper) }
        guard lower <= upper else { return nil }
        return PollSettings(
            limits: lower...upper, initialBurst: keys.iburst ?? defaults.initialBurst, burstEachPoll: keys.burst ?? defaults.burstEachPoll)
    }
}
