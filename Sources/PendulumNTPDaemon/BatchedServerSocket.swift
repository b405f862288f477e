#if canImport(Glibc)
import Glibc
#endif
import CPendulumShim
import PendulumIO
import PendulumNTPServer
import PendulumTime

/// A serving UDP socket that works in batches: one recvmmsg takes every request waiting (each
/// with its kernel receive timestamp and the address it was sent to), one sendmmsg sends the
/// replies, each from the address its request arrived on. Buffers are allocated once, here;
/// the per-request accessors hand out views into them. Used by one thread only.
final class BatchedServerSocket {
    let descriptor: Int32
    let kernelTimestamps: Bool
    let localAddress: SocketAddress
    private let ring: OpaquePointer

    /// - Parameters:
    ///   - shareable: bind with SO_REUSEPORT so more workers can bind the same address. The
    ///     first socket of an address binds without it (a port someone else holds still fails
    ///     at startup) and turns it on once bound.
    init(listen: SocketAddress, joiningGroup: Bool, shareable: Bool, batch: Int, requestCapacity: Int, replyCapacity: Int,
         receiveTimeoutMilliseconds: Int) throws(DaemonError) {
        let family = listen.family == .ipv4 ? AF_INET : AF_INET6
        let fd = pendulum_serve_socket_open(family, joiningGroup ? 1 : 0, Int32(receiveTimeoutMilliseconds), 4 << 20)
        guard fd >= 0 else { throw .startup("cannot listen for NTP on \(listen): socket: \(String(cString: strerror(-fd)))") }
        kernelTimestamps = pendulum_serve_enable_receive_timestamps(fd) == 0
        guard listen.withSockaddr({ Glibc.bind(fd, $0, $1) }) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw .startup("cannot listen for NTP on \(listen): \(reason)")
        }
        // Best effort: if it fails, replies still name their source, at a small cost.
        _ = pendulum_serve_skip_destination_unless_wildcard(fd)
        if shareable && !joiningGroup {
            var one: Int32 = 1
            guard setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
                let reason = String(cString: strerror(errno))
                close(fd)
                throw .startup("cannot share \(listen) between workers: SO_REUSEPORT: \(reason)")
            }
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
        guard let ring = pendulum_serve_ring_create(Int32(batch), requestCapacity, replyCapacity) else {
            close(fd)
            throw .startup("cannot allocate NTP buffers for \(listen)")
        }
        descriptor = fd
        localAddress = bound
        self.ring = ring
    }

    deinit {
        close(descriptor)
        pendulum_serve_ring_destroy(ring)
    }

    /// For the first socket of a SO_REUSEPORT group, once all have joined: see the shim.
    func steerBySourceAddress(workers: Int) -> Bool {
        pendulum_serve_steer_by_source_address(descriptor, localAddress.family == .ipv4 ? AF_INET : AF_INET6, Int32(workers)) == 0
    }

    /// Waits up to the receive timeout for requests; how many arrived (0 on timeout).
    func receive() -> Int {
        max(0, Int(pendulum_serve_receive(descriptor, ring)))
    }

    /// The bytes of request `index` (valid until the next `receive`), and whether the datagram
    /// was longer than the buffer.
    func request(_ index: Int) -> (bytes: UnsafeRawBufferPointer, truncated: Bool) {
        var length = 0
        var truncated: Int32 = 0
        let start = pendulum_serve_request(ring, Int32(index), &length, &truncated)
        return (UnsafeRawBufferPointer(start: start, count: start == nil ? 0 : length), truncated != 0)
    }

    /// Who sent request `index`; nil when the kernel reported no IPv4/IPv6 address.
    func sender(_ index: Int) -> ClientAddress? {
        var words: (UInt64, UInt64) = (0, 0)
        let family = withUnsafeMutableBytes(of: &words) { raw in
            pendulum_serve_sender(ring, Int32(index), raw.baseAddress?.assumingMemoryBound(to: UInt8.self))
        }
        let high = UInt64(bigEndian: words.0)
        let low = UInt64(bigEndian: words.1)
        switch family {
        case 4: return ClientAddress(high: 0, low: high >> 32, isIPv4: true)
        case 6: return ClientAddress(ipv6High: high, low: low)
        default: return nil
        }
    }

    /// The kernel's receive timestamp of request `index`, nil when there is none.
    func receiveTime(_ index: Int) -> UnixTime? {
        var stamp = timespec()
        let kind = pendulum_serve_receive_time(ring, Int32(index), &stamp)
        return kind == Int32(PENDULUM_TS_NONE.rawValue) ? nil : UnixTime(stamp)
    }

    func replyBuffer(_ index: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: pendulum_serve_reply_buffer(ring, Int32(index)), count: pendulum_serve_ring_reply_capacity(ring))
    }

    /// With `timestampTransmit`, the kernel records when the reply leaves: collect it with
    /// `readTransmitTimestamps`.
    func queueReply(_ index: Int, length: Int, timestampTransmit: Bool) {
        pendulum_serve_queue_reply(ring, Int32(index), length, timestampTransmit ? 1 : 0)
    }

    /// The transmit timestamps waiting in the error queue, each with the NTP receive timestamp
    /// field (bytes 32–39) of the reply it belongs to, plain or NTS. Does not block.
    func readTransmitTimestamps(_ body: (_ receiveField: UInt64, _ sentAt: UnixTime) -> Void) -> Int {
        var fields = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        var times = (timespec(), timespec(), timespec(), timespec(), timespec(), timespec(), timespec(), timespec())
        var total = 0
        while true {
            let count = withUnsafeMutableBytes(of: &fields) { fieldBytes in
                withUnsafeMutableBytes(of: &times) { timeBytes in
                    Int(pendulum_serve_read_transmit_timestamps(
                        descriptor, fieldBytes.baseAddress?.assumingMemoryBound(to: UInt64.self),
                        timeBytes.baseAddress?.assumingMemoryBound(to: timespec.self), 8
                    ))
                }
            }
            guard count > 0 else { return total }
            withUnsafeBytes(of: &fields) { fieldBytes in
                withUnsafeBytes(of: &times) { timeBytes in
                    let fieldList = fieldBytes.bindMemory(to: UInt64.self)
                    let timeList = timeBytes.bindMemory(to: timespec.self)
                    for index in 0..<count { body(fieldList[index], UnixTime(timeList[index])) }
                }
            }
            total += count
            if count < 8 { return total }
        }
    }

    /// Best effort: a reply that cannot be sent is not retried.
    func sendReplies() {
        _ = pendulum_serve_send_replies(descriptor, ring)
    }
}
