// The shim includes <sys/socket.h>; in a whole-module build its declarations are seen through it.
import CPendulumShim
import Glibc

/// A host name that did not resolve.
public struct NameResolutionError: Error, Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var reason: String
    public var description: String { "cannot resolve \(host): \(reason)" }
}

/// Blocking name resolution through the system resolver (getaddrinfo), so /etc/hosts,
/// nsswitch and resolv.conf behave as every other program on the machine.
public enum NameResolver {
    /// "[::1]" → "::1": an IPv6 literal as written beside a port, as the socket calls want it.
    public static func unbracketed(_ host: String) -> String {
        host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
    }

    /// All UDP addresses for `host` (a name or a numeric address), in the resolver's order
    /// (which follows RFC 6724 preferences), without duplicates.
    public static func resolve(_ host: String, port: UInt16) throws(NameResolutionError) -> [SocketAddress] {
        let bare = unbracketed(host)
        if let numeric = SocketAddress(ip: bare, port: port) { return [numeric] }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(bare, nil, &hints, &result)
        guard status == 0 else {
            throw NameResolutionError(host: host, reason: String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(result) }
        var addresses: [SocketAddress] = []
        var cursor = result
        while let entry = cursor {
            if let raw = entry.pointee.ai_addr,
               let address = SocketAddress(UnsafeRawPointer(raw), length: Int(entry.pointee.ai_addrlen))?.withPort(port),
               !addresses.contains(address) {
                addresses.append(address)
            }
            cursor = entry.pointee.ai_next
        }
        guard !addresses.isEmpty else { throw NameResolutionError(host: host, reason: "no IPv4 or IPv6 address") }
        return addresses
    }
}
