// The shim includes <sys/socket.h>; in a whole-module build its declarations are seen through it.
import CPendulumShim
import Glibc

/// An IPv4 or IPv6 address with a port, stored as the kernel's sockaddr.
public struct SocketAddress: Sendable, Hashable, CustomStringConvertible {
    public enum Family: Sendable, Hashable { case ipv4, ipv6 }

    private var storage: [UInt8]  // the raw sockaddr_in or sockaddr_in6

    public var family: Family {
        storage.count == MemoryLayout<sockaddr_in6>.size ? .ipv6 : .ipv4
    }

    /// Parses a numeric IPv4 or IPv6 address (no name lookup); nil if it is neither.
    public init?(ip: String, port: UInt16) {
        var v4 = sockaddr_in()
        if inet_pton(AF_INET, ip, &v4.sin_addr) == 1 {
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = port.bigEndian
            storage = withUnsafeBytes(of: v4) { Array($0) }
            return
        }
        var v6 = sockaddr_in6()
        if inet_pton(AF_INET6, ip, &v6.sin6_addr) == 1 {
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = port.bigEndian
            storage = withUnsafeBytes(of: v6) { Array($0) }
            return
        }
        return nil
    }

    /// Copies an address the kernel filled in; nil for families other than IPv4/IPv6.
    public init?(_ address: UnsafeRawPointer, length: Int) {
        let family = Int32(address.load(as: sockaddr.self).sa_family)
        switch family {
        case AF_INET where length >= MemoryLayout<sockaddr_in>.size:
            storage = Array(UnsafeRawBufferPointer(start: address, count: MemoryLayout<sockaddr_in>.size))
        case AF_INET6 where length >= MemoryLayout<sockaddr_in6>.size:
            storage = Array(UnsafeRawBufferPointer(start: address, count: MemoryLayout<sockaddr_in6>.size))
        default:
            return nil
        }
    }

    public var port: UInt16 {
        storage.withUnsafeBytes { raw in
            family == .ipv4
                ? UInt16(bigEndian: raw.load(as: sockaddr_in.self).sin_port)
                : UInt16(bigEndian: raw.load(as: sockaddr_in6.self).sin6_port)
        }
    }

    public func withPort(_ port: UInt16) -> SocketAddress {
        var copy = self
        copy.storage.withUnsafeMutableBytes { raw in
            if family == .ipv4 {
                raw.storeBytes(of: port.bigEndian, toByteOffset: MemoryLayout<sockaddr_in>.offset(of: \.sin_port) ?? 2, as: UInt16.self)
            } else {
                raw.storeBytes(of: port.bigEndian, toByteOffset: MemoryLayout<sockaddr_in6>.offset(of: \.sin6_port) ?? 2, as: UInt16.self)
            }
        }
        return copy
    }

    /// The bare address: "127.0.0.1", "::1".
    public var ipString: String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        storage.withUnsafeBytes { raw in
            if family == .ipv4 {
                var address = raw.load(as: sockaddr_in.self).sin_addr
                _ = inet_ntop(AF_INET, &address, &text, socklen_t(text.count))
            } else {
                var address = raw.load(as: sockaddr_in6.self).sin6_addr
                _ = inet_ntop(AF_INET6, &address, &text, socklen_t(text.count))
            }
        }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The address bytes (4 or 16), e.g. for NTP reference ids.
    public var addressBytes: [UInt8] {
        storage.withUnsafeBytes { raw in
            if family == .ipv4 {
                return withUnsafeBytes(of: raw.load(as: sockaddr_in.self).sin_addr) { Array($0) }
            }
            return withUnsafeBytes(of: raw.load(as: sockaddr_in6.self).sin6_addr) { Array($0) }
        }
    }

    /// "127.0.0.1:123", "[::1]:123".
    public var description: String {
        family == .ipv4 ? "\(ipString):\(port)" : "[\(ipString)]:\(port)"
    }

    public func withSockaddr<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws -> Result) rethrows -> Result {
        var copy = sockaddr_storage()
        withUnsafeMutableBytes(of: &copy) { $0.copyBytes(from: storage) }
        return try withUnsafePointer(to: &copy) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { try body($0, socklen_t(storage.count)) }
        }
    }
}
