import Crypto

/// A source's address as the client core sees it: the shell resolves names and hands these
/// in, and gets them back in `send` actions. The core never looks up a name itself.
public struct ResolvedAddress: Sendable, Hashable, CustomStringConvertible {
    /// 4 bytes (IPv4) or 16 (IPv6), network order.
    public let bytes: [UInt8]
    public let port: UInt16
    /// The address as text without the port ("192.0.2.1", "2001:db8::1"), as the resolver
    /// wrote it; pools use it to tell members apart.
    public let host: String

    /// nil unless `bytes` is an IPv4 or IPv6 address.
    public init?(bytes: [UInt8], port: UInt16, host: String) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
        self.port = port
        self.host = host
    }

    public init(ipv4 a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8, port: UInt16) {
        bytes = [a, b, c, d]
        self.port = port
        host = "\(a).\(b).\(c).\(d)"
    }

    public var isIPv6: Bool { bytes.count == 16 }

    public var description: String { isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// The reference id this host announces while serving time from this source: the IPv4
    /// address, or the first four bytes of the MD5 of the IPv6 address (RFC 5905 §7.3).
    public var referenceID: UInt32 {
        let prefix = isIPv6 ? Array(Insecure.MD5.hash(data: bytes)) : bytes
        return prefix.prefix(4).reduce(0) { $0 << 8 | UInt32($1) }
    }
}
