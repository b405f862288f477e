import CPendulumShim
import Glibc
import PendulumTime

/// A datagram as it arrived, with its receive timestamp.
public struct ReceivedDatagram: Sendable {
    public var bytes: [UInt8]
    public var sender: SocketAddress
    public var timestamp: PacketTimestamp
    /// The datagram was larger than the receive buffer; `bytes` holds only its start.
    public var wasTruncated: Bool
}

/// A blocking UDP socket that reports when each packet really left and arrived.
///
/// On Linux it asks for kernel software timestamps (SO_TIMESTAMPING): receive timestamps come
/// with the datagram, transmit timestamps from the socket's error queue. Where the kernel gives
/// none (another OS, a sandbox that filters the option, a timestamp that does not show up in
/// time) it falls back to reading the clock next to the system call, and says so in
/// `PacketTimestamp.source`, so callers can weigh the measurement. Linux switches receive
/// timestamping on lazily for the whole stack when the first socket asks, so the first
/// datagrams after that may still arrive with user-space timestamps.
public final class TimestampedUDPSocket {
    public let family: SocketAddress.Family
    private let descriptor: Int32
    /// Whether the kernel accepted SO_TIMESTAMPING.
    public let kernelTimestampingEnabled: Bool
    /// OPT_ID numbers each send on this socket from zero; transmit timestamps carry it.
    private var sendCounter: UInt32 = 0
    /// How long to wait for a transmit timestamp before settling for the user-space one.
    public var transmitTimestampWait: Duration = .milliseconds(20)

    /// `kernelTimestamps: false` skips SO_TIMESTAMPING, for comparison and to exercise the
    /// user-space fallback.
    public init(family: SocketAddress.Family, kernelTimestamps: Bool = true) throws(SystemCallError) {
        self.family = family
        let domain = family == .ipv4 ? AF_INET : AF_INET6
        let fd = socket(domain, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemCallError("socket") }
        descriptor = fd
        kernelTimestampingEnabled = kernelTimestamps && pendulum_enable_software_timestamping(fd) == 0
    }

    deinit {
        close(descriptor)
    }

    public func bind(to address: SocketAddress) throws(SystemCallError) {
        var one: Int32 = 1
        if address.family == .ipv6 {
            // Listening on "::" must not also claim the IPv4 port another socket binds.
            setsockopt(descriptor, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        let result = address.withSockaddr { Glibc.bind(descriptor, $0, $1) }
        guard result == 0 else { throw SystemCallError("bind \(address)") }
    }

    /// Fixes the peer: the kernel then drops datagrams from anyone else and reports ICMP
    /// "port unreachable" as ECONNREFUSED on the next receive.
    public func connect(to address: SocketAddress) throws(SystemCallError) {
        let result = address.withSockaddr { Glibc.connect(descriptor, $0, $1) }
        guard result == 0 else { throw SystemCallError("connect \(address)") }
    }

    /// The local address the kernel chose or was told.
    public func localAddress() throws(SystemCallError) -> SocketAddress {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard result == 0, let address = withUnsafeBytes(of: storage, { raw in
            raw.baseAddress.flatMap { SocketAddress($0, length: Int(length)) }
        }) else { throw SystemCallError("getsockname") }
        return address
    }

    /// Sends a datagram (to the connected peer when `address` is nil) and returns when it left.
    @discardableResult
    public func send(_ bytes: [UInt8], to address: SocketAddress? = nil) throws(SystemCallError) -> PacketTimestamp {
        let before = WallClock.now()
        let sent: Int = bytes.withUnsafeBytes { buffer in
            if let address {
                return address.withSockaddr { sendto(descriptor, buffer.baseAddress, buffer.count, 0, $0, $1) }
            }
            return Glibc.send(descriptor, buffer.baseAddress, buffer.count, 0)
        }
        guard sent >= 0 else { throw SystemCallError("send") }
        let id = sendCounter
        sendCounter &+= 1
        guard kernelTimestampingEnabled, let kernel = awaitTransmitTimestamp(id: id) else {
            return PacketTimestamp(time: before, source: .userSpace)
        }
        return kernel
    }

    /// Drains the error queue until the transmit timestamp of send number `id` shows up or the
    /// wait runs out.
    private func awaitTransmitTimestamp(id: UInt32) -> PacketTimestamp? {
        let deadline = MonotonicClock.now() + transmitTimestampWait
        var polledWithEmptyQueue = false
        while true {
            var stamp = timespec()
            var kind: Int32 = 0
            var stampID: UInt32 = 0
            let result = pendulum_recv_transmit_timestamp(descriptor, &stamp, &kind, &stampID)
            if result == 1 && stampID == id {
                return PacketTimestamp(time: UnixTime(stamp), source: kind == Int32(PENDULUM_TS_HARDWARE.rawValue) ? .hardware : .kernel)
            }
            if result == -EAGAIN {
                let remaining = deadline - MonotonicClock.now()
                guard remaining > .zero else { return nil }
                // The error queue signals readiness as POLLERR, which poll reports unasked.
                var poller = pollfd(fd: descriptor, events: 0, revents: 0)
                _ = poll(&poller, 1, Int32(max(1, remaining.milliseconds)))
                if poller.revents & Int16(POLLERR) == 0 || polledWithEmptyQueue { return nil }
                // POLLERR with an empty queue means a pending socket error, not a timestamp:
                // one more look, then settle for the user-space time and let receive report it.
                polledWithEmptyQueue = true
            } else if result < 0 && result != -EINTR {
                return nil
            } else {
                polledWithEmptyQueue = false
            }
            // result 0 or an older id: another message; keep draining.
        }
    }

    /// Waits up to `timeout` for a datagram. Returns nil on timeout.
    public func receive(timeout: Duration, capacity: Int = 2048) throws(SystemCallError) -> ReceivedDatagram? {
        let deadline = MonotonicClock.now() + timeout
        while true {
            let remaining = deadline - MonotonicClock.now()
            guard remaining > .zero else { return nil }
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(max(1, remaining.milliseconds)))
            if ready < 0 {
                if errno == EINTR { continue }
                throw SystemCallError("poll")
            }
            if ready == 0 { continue }
            if poller.revents & Int16(POLLIN) == 0 {
                // POLLERR alone: either an ICMP error for a connected socket (ECONNREFUSED when
                // nothing listens), which reading SO_ERROR reports and clears, or transmit
                // timestamps nobody waited for, which are dropped.
                var pending: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                if getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &pending, &length) == 0, pending != 0 {
                    throw SystemCallError("receive", code: pending)
                }
                drainErrorQueue()
                continue
            }
            if let datagram = try receiveNow(capacity: capacity) { return datagram }
        }
    }

    /// The descriptor, for an event loop that polls many sockets at once; it stays owned by
    /// this object.
    public var fileDescriptor: Int32 { descriptor }

    /// One look without waiting, for an event loop that polled the descriptor itself: the
    /// datagram waiting, if any. A pending socket error (ICMP "port unreachable" on a
    /// connected socket) is thrown; stray transmit timestamps are dropped.
    public func receiveWaiting(capacity: Int = 2048) throws(SystemCallError) -> ReceivedDatagram? {
        if let datagram = try receiveNow(capacity: capacity) { return datagram }
        var pending: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        if getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &pending, &length) == 0, pending != 0 {
            throw SystemCallError("receive", code: pending)
        }
        drainErrorQueue()
        return nil
    }

    private func receiveNow(capacity: Int) throws(SystemCallError) -> ReceivedDatagram? {
        var buffer = [UInt8](repeating: 0, count: capacity)
        var storage = sockaddr_storage()
        var addressLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
        var stamp = timespec()
        var kind: Int32 = 0
        let received = buffer.withUnsafeMutableBytes { raw in
            pendulum_recv_timestamped(descriptor, raw.baseAddress, raw.count, &storage, &addressLength, &stamp, &kind, Int32(MSG_DONTWAIT))
        }
        let userSpaceTime = WallClock.now()
        if received < 0 {
            if received == -Int(EAGAIN) || received == -Int(EINTR) { return nil }
            throw SystemCallError("recvmsg", code: Int32(-received))
        }
        guard let sender = withUnsafeBytes(of: storage, { raw in
            raw.baseAddress.flatMap { SocketAddress($0, length: Int(addressLength)) }
        }) else { return nil }
        let length = min(received, capacity)
        let timestamp: PacketTimestamp
        switch kind {
        case Int32(PENDULUM_TS_HARDWARE.rawValue): timestamp = PacketTimestamp(time: UnixTime(stamp), source: .hardware)
        case Int32(PENDULUM_TS_KERNEL_SOFTWARE.rawValue): timestamp = PacketTimestamp(time: UnixTime(stamp), source: .kernel)
        default: timestamp = PacketTimestamp(time: userSpaceTime, source: .userSpace)
        }
        return ReceivedDatagram(bytes: Array(buffer.prefix(length)), sender: sender, timestamp: timestamp, wasTruncated: received > capacity)
    }

    private func drainErrorQueue() {
        var stamp = timespec()
        var kind: Int32 = 0
        var id: UInt32 = 0
        while pendulum_recv_transmit_timestamp(descriptor, &stamp, &kind, &id) >= 0 {}
    }
}

extension Duration {
    /// Whole milliseconds, rounded up so a poll never returns early for a sub-millisecond rest.
    var milliseconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) * 1000 + Int((attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
    }
}
