#if canImport(Glibc)
import Glibc
#endif
import CPendulumShim
import PendulumIO
import PendulumTime

/// A serving UDP socket: kernel receive timestamps only. `TimestampedUDPSocket` also asks for
/// transmit timestamps, which a server that does not use them (no interleaved mode yet) would
/// pay for with an error-queue read per reply; here a request costs one recvmsg and one sendto.
/// Receives block with a timeout so the serving thread notices a stop request.
final class ServerUDPSocket {
    // linux/net_tstamp.h, which Glibc does not import: stable kernel ABI values.
    private static let timestampingRXSoftware: Int32 = 1 << 3
    private static let timestampingSoftware: Int32 = 1 << 4

    private let descriptor: Int32
    let kernelTimestamps: Bool
    let localAddress: SocketAddress

    struct Datagram {
        var length: Int
        var sender: SocketAddress
        var receivedAt: UnixTime
    }

    init(listen: SocketAddress, receiveTimeoutMilliseconds: Int) throws(DaemonError) {
        let domain = listen.family == .ipv4 ? AF_INET : AF_INET6
        let fd = socket(domain, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .startup("cannot listen for NTP on \(listen): socket: \(String(cString: strerror(errno)))") }
        descriptor = fd
        var one: Int32 = 1
        if listen.family == .ipv6 {
            // "[::]" must not also claim the IPv4 port another [[server]] binds.
            setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        var flags = Self.timestampingRXSoftware | Self.timestampingSoftware
        kernelTimestamps = setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, socklen_t(MemoryLayout<Int32>.size)) == 0
        var timeout = timeval(tv_sec: receiveTimeoutMilliseconds / 1000, tv_usec: (receiveTimeoutMilliseconds % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard listen.withSockaddr({ Glibc.bind(fd, $0, $1) }) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw .startup("cannot listen for NTP on \(listen): \(reason)")
        }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0, let bound = withUnsafeBytes(of: storage, { raw in raw.baseAddress.flatMap { SocketAddress($0, length: Int(length)) } }) else {
            close(fd)
            throw .startup("cannot listen for NTP on \(listen): getsockname failed")
        }
        localAddress = bound
    }

    deinit { close(descriptor) }

    /// Waits up to the receive timeout. nil on timeout, interruption or an unreadable sender.
    /// `length` may exceed the buffer: the datagram was truncated.
    func receive(into buffer: inout [UInt8]) -> Datagram? {
        var storage = sockaddr_storage()
        var addressLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
        var stamp = timespec()
        var kind: Int32 = 0
        let received = buffer.withUnsafeMutableBytes { raw in
            pendulum_recv_timestamped(descriptor, raw.baseAddress, raw.count, &storage, &addressLength, &stamp, &kind, 0)
        }
        let userSpaceTime = WallClock.now()
        guard received >= 0, let sender = withUnsafeBytes(of: storage, { raw in
            raw.baseAddress.flatMap { SocketAddress($0, length: Int(addressLength)) }
        }) else { return nil }
        let time = kind == Int32(PENDULUM_TS_NONE.rawValue) ? userSpaceTime : UnixTime(stamp)
        return Datagram(length: received, sender: sender, receivedAt: time)
    }

    /// Best effort: a reply that cannot be sent is not retried.
    func send(_ bytes: [UInt8], to address: SocketAddress) {
        _ = bytes.withUnsafeBytes { buffer in
            address.withSockaddr { sendto(descriptor, buffer.baseAddress, buffer.count, 0, $0, $1) }
        }
    }
}
