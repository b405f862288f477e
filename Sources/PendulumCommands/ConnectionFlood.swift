#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Many TCP connections to one loopback server, held open until a deadline: idle ones that
/// never send a byte, and half-finished TLS handshakes that send a ClientHello and nothing
/// more. What a server shuts is opened again when `reopen` is set, so the pressure lasts.
/// Blocking, on its own thread; bounded by `duration`.
final class ConnectionFlood: @unchecked Sendable {
    struct Plan: Sendable {
        var target: sockaddr_in
        /// Connections held at once.
        var connections: Int
        /// Sent on each connection as soon as it is up; empty: idle connections.
        var firstBytes: [UInt8]
        /// Host-order IPv4 source addresses, used round robin.
        var sources: [UInt32]
        var duration: Double
        var reopen: Bool
    }

    struct Tally: Sendable {
        var opened = 0
        var established = 0
        var closedByServer = 0
        var connectFailures = 0
        var mostHeld = 0
    }

    private enum State { case connecting, established }
    private let plan: Plan
    private(set) var tally = Tally()

    init(plan: Plan) {
        self.plan = plan
    }

    func run() {
        var sockets: [(fd: Int32, state: State)] = []
        var nextSource = 0
        let end = Date().addingTimeInterval(plan.duration)
        var everOpened = 0
        while Date() < end {
            let wanted = plan.reopen ? plan.connections : plan.connections - everOpened
            var openedNow = 0
            // At most 256 new connections between polls, so the server's closes are read too.
            while sockets.count < plan.connections, openedNow < min(256, max(0, wanted)) {
                let source = plan.sources[nextSource % plan.sources.count]
                nextSource += 1
                openedNow += 1
                everOpened += 1
                if let fd = open(from: source) {
                    sockets.append((fd, .connecting))
                    tally.opened += 1
                } else {
                    tally.connectFailures += 1
                }
            }
            tally.mostHeld = max(tally.mostHeld, sockets.count)
            var polls = sockets.map { pollfd(fd: $0.fd, events: Int16($0.state == .connecting ? POLLOUT : POLLIN), revents: 0) }
            let ready = polls.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), 20) }
            guard ready > 0 else { continue }
            var kept: [(fd: Int32, state: State)] = []
            kept.reserveCapacity(sockets.count)
            for (index, socket) in sockets.enumerated() {
                let events = Int32(polls[index].revents)
                if events == 0 {
                    kept.append(socket)
                } else if socket.state == .connecting {
                    if connected(socket.fd) {
                        tally.established += 1
                        if !plan.firstBytes.isEmpty { _ = plan.firstBytes.withUnsafeBytes { send(socket.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } }
                        kept.append((socket.fd, .established))
                    } else {
                        tally.connectFailures += 1
                        close(socket.fd)
                    }
                } else if drainedToClose(socket.fd) {
                    tally.closedByServer += 1
                    close(socket.fd)
                } else {
                    kept.append(socket)
                }
            }
            sockets = kept
        }
        for socket in sockets { close(socket.fd) }
    }

    private func open(from source: UInt32) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { return nil }
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        local.sin_addr.s_addr = source.bigEndian
        var target = plan.target
        let bound = withUnsafePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        let started = withUnsafePointer(to: &target) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, started == 0 || errno == EINPROGRESS else {
            close(fd)
            return nil
        }
        return fd
    }

    private func connected(_ fd: Int32) -> Bool {
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error == 0
    }

    /// Reads what the server sent (a ServerHello, say); true when it has closed.
    private func drainedToClose(_ fd: Int32) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count > 0 { continue }
            if count == 0 { return true }
            return errno != EAGAIN && errno != EWOULDBLOCK
        }
    }
}
