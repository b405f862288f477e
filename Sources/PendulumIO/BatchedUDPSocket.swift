import CPendulumShim
import Glibc
import PendulumTime

/// A connected, non-blocking UDP socket that sends and receives in batches (sendmmsg/recvmmsg):
/// one system call per up to 64 datagrams, for load generation and serving at line rate.
/// The kernel serialises operations on a socket, so one thread may send while another receives.
public final class BatchedUDPSocket: @unchecked Sendable {
    public let descriptor: Int32

    public init(connectedTo address: SocketAddress, receiveBufferBytes: Int32 = 4 << 20) throws(SystemCallError) {
        let domain = address.family == .ipv4 ? AF_INET : AF_INET6
        let fd = socket(domain, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw SystemCallError("socket") }
        var size = receiveBufferBytes
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        let connected = address.withSockaddr { connect(fd, $0, $1) }
        guard connected == 0 else {
            let code = errno
            close(fd)
            throw SystemCallError("connect \(address)", code: code)
        }
        descriptor = fd
    }

    deinit {
        close(descriptor)
    }

    /// Sends `count` datagrams of `length` bytes stored back to back in `packets`; returns how
    /// many the kernel took (fewer when its buffer is full).
    public func sendBatch(_ packets: UnsafeRawBufferPointer, length: Int, count: Int) -> Int {
        max(0, Int(pendulum_send_batch(descriptor, packets.baseAddress, length, Int32(count))))
    }

    /// Receives what is waiting, up to `lengths.count` datagrams into `slots` of `slotSize`
    /// bytes each; returns how many.
    public func receiveBatch(
        into slots: UnsafeMutableRawBufferPointer, slotSize: Int,
        lengths: UnsafeMutableBufferPointer<Int32>, timestamps: UnsafeMutableBufferPointer<timespec>
    ) -> Int {
        let count = min(lengths.count, timestamps.count, slots.count / slotSize)
        return max(0, Int(pendulum_receive_batch(descriptor, slots.baseAddress, slotSize, Int32(count), lengths.baseAddress, timestamps.baseAddress)))
    }

    /// Waits until one of `sockets` has something to read, or `nanoseconds` pass.
    public static func waitForAnyReadable(_ sockets: [BatchedUDPSocket], nanoseconds: Int) {
        let descriptors = sockets.map(\.descriptor)
        _ = descriptors.withUnsafeBufferPointer { pendulum_wait_readable($0.baseAddress, Int32($0.count), max(0, nanoseconds)) }
    }
}
