import ArgumentParser
import CPendulumShim
import PendulumBench
import PendulumIO

#if canImport(Glibc)
    import Glibc
#endif

/// The I/O around `PathImpairment` for `pendulum bench proxy`: one thread, one ppoll loop, a
/// min-heap of pending deliveries. Each client address gets its own connected upstream socket,
/// because NTP clients (chronyd among them) often send each request from a fresh port and the
/// server's reply has to find its way back to that port.
final class ImpairingProxy {
    static let maximumRelays = 1024
    static let relayIdleNanoseconds: UInt64 = 30_000_000_000
    static let maximumPending = 65_536
    /// The largest UDP payload fits; nothing is ever truncated.
    static let maximumDatagram = 65_536
    /// Datagrams read from one socket per wake, so one busy socket cannot starve the timers.
    static let readsPerWake = 64

    private struct Relay {
        var fd: Int32
        var lastUsed: UInt64
    }

    private enum Delivery {
        case toUpstream(client: SocketAddress, bytes: [UInt8])
        case toClient(client: SocketAddress, bytes: [UInt8])
    }

    struct Counters {
        var requests: UInt64 = 0
        var requestsDropped: UInt64 = 0
        var replies: UInt64 = 0
        var repliesDropped: UInt64 = 0
        var delivered: UInt64 = 0
        var overQueueLimit: UInt64 = 0
        var sendErrors: UInt64 = 0
        var relaysEvicted: UInt64 = 0
        /// How late deliveries went out, per direction: a proxy late one way only biases every
        /// offset its clients measure.
        var requestLateness = LatenessHistogram()
        var replyLateness = LatenessHistogram()
    }

    private let listenFD: Int32
    private let upstream: SocketAddress
    private var impairment: PathImpairment
    private var relays: [SocketAddress: Relay] = [:]
    private var clientsByFD: [Int32: SocketAddress] = [:]
    private var pending = DeliveryQueue<Delivery>(capacity: ImpairingProxy.maximumPending)
    private var buffer = [UInt8](repeating: 0, count: ImpairingProxy.maximumDatagram)
    private(set) var counters = Counters()
    private let spinNanoseconds: UInt64

    /// `spinSeconds`: how long before a delivery to stop sleeping and poll in a loop.
    init(listen: SocketAddress, upstream: SocketAddress, impairment: PathImpairment, spinSeconds: Double) throws {
        let fd = socket(listen.family == .ipv4 ? AF_INET : AF_INET6, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ValidationError("socket: \(String(cString: strerror(errno)))") }
        guard listen.withSockaddr({ bind(fd, $0, $1) }) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw ValidationError("bind \(listen): \(reason)")
        }
        // Arrivals are timed by the kernel, not by when this thread woke: a wake-up after a
        // long idle came 50 to 170 µs late here, after the request only (the reply follows
        // within a millisecond), which made every path look longer towards the server.
        _ = pendulum_serve_enable_receive_timestamps(fd)
        listenFD = fd
        self.upstream = upstream
        self.impairment = impairment
        spinNanoseconds = Self.nanoseconds(spinSeconds)
    }

    deinit {
        for relay in relays.values { close(relay.fd) }
        close(listenFD)
    }

    /// Relays for `seconds` or until SIGINT/SIGTERM, then returns. Deliveries still pending at
    /// the end are dropped.
    func run(seconds: Double) {
        let terminationFD = pendulum_termination_pipe()
        defer { if terminationFD >= 0 { close(terminationFD) } }
        // Without this every ppoll wake-up may come up to 50 µs late, which is the jitter
        // scale the benchmark measures.
        _ = pendulum_minimal_timer_slack()
        let start = Self.monotonicNanoseconds()
        let deadline = Self.adding(start, Self.nanoseconds(seconds))
        var lastHousekeeping = start
        var descriptors: [pollfd] = []
        while true {
            deliverDue(start: start)
            let now = Self.monotonicNanoseconds()
            if now >= deadline { break }
            if now - min(now, lastHousekeeping) >= 1_000_000_000 {
                expireIdleRelays(now: now)
                lastHousekeeping = now
            }
            var wait = min(deadline - now, 1_000_000_000)
            if let due = pending.nextDue {
                // Close to a delivery, poll without sleeping: a wake-up from ppoll came 40 to
                // 90 µs late on our 2-core VM even with 1 ns timer slack, as much as the base
                // delays the benchmark sets. Sockets are still polled while spinning, so
                // arrivals are stamped on time.
                let untilDue = due > now ? due - now : 0
                wait = min(wait, untilDue > spinNanoseconds ? untilDue - spinNanoseconds : 0)
            }
            descriptors.removeAll(keepingCapacity: true)
            descriptors.append(pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0))
            if terminationFD >= 0 { descriptors.append(pollfd(fd: terminationFD, events: Int16(POLLIN), revents: 0)) }
            for fd in clientsByFD.keys { descriptors.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0)) }
            let ready = pendulum_poll_for(&descriptors, Int32(descriptors.count), Int64(wait))
            // 0 is a timeout and a negative value EINTR or the like: either way the loop top
            // delivers what is due and polls again.
            guard ready > 0 else { continue }
            if descriptors.contains(where: { $0.fd == terminationFD && $0.revents != 0 }) { break }
            for descriptor in descriptors where descriptor.revents != 0 {
                if descriptor.fd == listenFD {
                    receiveRequests(start: start)
                } else {
                    receiveReplies(from: descriptor.fd, start: start)
                }
            }
        }
    }

    private func receiveRequests(start: UInt64) {
        for _ in 0..<Self.readsPerWake {
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            guard let (received, arrival) = receive(from: listenFD, address: &storage, length: &length) else { return }
            guard let client = withUnsafePointer(to: &storage, { SocketAddress(UnsafeRawPointer($0), length: Int(length)) }) else { continue }
            counters.requests &+= 1
            switch impairment.decide(.request, elapsed: Self.seconds(since: start, at: arrival)) {
            case .drop:
                counters.requestsDropped &+= 1
            case .deliver(let after):
                // A new client port's upstream socket is opened now, inside the request's delay,
                // not at delivery: socket() and connect() there would lengthen requests only
                // and bias every offset measured through the proxy.
                _ = relay(for: client, now: arrival)
                let bytes = Array(buffer[0..<received])
                if !pending.insert(.toUpstream(client: client, bytes: bytes), due: Self.adding(arrival, Self.nanoseconds(after))) {
                    counters.overQueueLimit &+= 1
                }
            }
        }
    }

    private func receiveReplies(from fd: Int32, start: UInt64) {
        guard let client = clientsByFD[fd] else { return }
        for _ in 0..<Self.readsPerWake {
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            // ECONNREFUSED (the server is not there) ends up here too: nothing to relay.
            guard let (received, arrival) = receive(from: fd, address: &storage, length: &length) else { return }
            relays[client]?.lastUsed = arrival
            counters.replies &+= 1
            switch impairment.decide(.reply, elapsed: Self.seconds(since: start, at: arrival)) {
            case .drop:
                counters.repliesDropped &+= 1
            case .deliver(let after):
                let bytes = Array(buffer[0..<received])
                if !pending.insert(.toClient(client: client, bytes: bytes), due: Self.adding(arrival, Self.nanoseconds(after))) {
                    counters.overQueueLimit &+= 1
                }
            }
        }
    }

    /// One datagram into `buffer`: its length (at most the buffer's) and when it arrived, on
    /// the monotonic clock, from the kernel's receive timestamp where there is one.
    private func receive(from fd: Int32, address: inout sockaddr_storage, length: inout socklen_t) -> (Int, UInt64)? {
        var stamp = timespec()
        var kind: Int32 = 0
        let received = buffer.withUnsafeMutableBytes { bytes in
            pendulum_recv_timestamped(fd, bytes.baseAddress, bytes.count, &address, &length, &stamp, &kind, Int32(MSG_DONTWAIT))
        }
        guard received >= 0 else { return nil }
        let now = Self.monotonicNanoseconds()
        var wall = timespec()
        clock_gettime(CLOCK_REALTIME, &wall)
        let sinceArrival = kind == 0 ? 0 : Self.nanoseconds(between: stamp, and: wall)
        return (min(received, buffer.count), now - min(now, sinceArrival))
    }

    /// `later − earlier` in nanoseconds, 0 if not later, at most a second: a receive stamp
    /// older than that is not believed.
    static func nanoseconds(between earlier: timespec, and later: timespec) -> UInt64 {
        let seconds = Int64(later.tv_sec) - Int64(earlier.tv_sec)
        guard seconds >= 0, seconds <= 1 else { return 0 }
        let total = seconds * 1_000_000_000 + Int64(later.tv_nsec) - Int64(earlier.tv_nsec)
        return total > 0 ? UInt64(min(total, 1_000_000_000)) : 0
    }

    private func deliverDue(start: UInt64) {
        while let next = pending.popDue(at: Self.monotonicNanoseconds()) {
            let now = Self.monotonicNanoseconds()
            let late = now - min(now, next.due)
            let sent: Int
            switch next.payload {
            case .toUpstream(let client, let bytes):
                counters.requestLateness.record(nanoseconds: late)
                guard let fd = relay(for: client, now: now) else {
                    counters.sendErrors &+= 1
                    continue
                }
                sent = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            case .toClient(let client, let bytes):
                counters.replyLateness.record(nanoseconds: late)
                sent = bytes.withUnsafeBytes { raw in
                    client.withSockaddr { sendto(listenFD, raw.baseAddress, raw.count, Int32(MSG_DONTWAIT), $0, $1) }
                }
            }
            if sent >= 0 { counters.delivered &+= 1 } else { counters.sendErrors &+= 1 }
        }
    }

    /// The client's upstream socket, opened on first use; the least recently used one makes
    /// room when the table is full.
    private func relay(for client: SocketAddress, now: UInt64) -> Int32? {
        if let existing = relays[client] {
            relays[client]?.lastUsed = now
            return existing.fd
        }
        if relays.count >= Self.maximumRelays,
           let oldest = relays.min(by: { $0.value.lastUsed < $1.value.lastUsed }) {
            remove(oldest.key)
            counters.relaysEvicted &+= 1
        }
        let family = upstream.family == .ipv4 ? AF_INET : AF_INET6
        let fd = socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        guard upstream.withSockaddr({ connect(fd, $0, $1) }) == 0 else {
            close(fd)
            return nil
        }
        _ = pendulum_serve_enable_receive_timestamps(fd)
        relays[client] = Relay(fd: fd, lastUsed: now)
        clientsByFD[fd] = client
        return fd
    }

    private func expireIdleRelays(now: UInt64) {
        let idle = relays.filter { now - min(now, $0.value.lastUsed) > Self.relayIdleNanoseconds }
        for client in idle.keys { remove(client) }
    }

    private func remove(_ client: SocketAddress) {
        guard let relay = relays.removeValue(forKey: client) else { return }
        clientsByFD.removeValue(forKey: relay.fd)
        close(relay.fd)
    }

    var summary: String {
        func micro(_ value: Double) -> String { String(Int(value.rounded())) }
        func late(_ lateness: LatenessHistogram) -> String {
            "mean \(micro(lateness.meanMicroseconds)) µs, p99 \(micro(lateness.quantileMicroseconds(0.99))) µs, "
                + "max \(micro(Double(lateness.maximumNanoseconds) / 1_000)) µs over \(lateness.count)"
        }
        return "proxy: \(counters.requests) requests (\(counters.requestsDropped) dropped), "
            + "\(counters.replies) replies (\(counters.repliesDropped) dropped), \(counters.delivered) delivered, "
            + "\(counters.overQueueLimit) over the queue limit, \(counters.sendErrors) send errors, "
            + "\(counters.relaysEvicted) relays evicted; lateness of requests \(late(counters.requestLateness)), "
            + "of replies \(late(counters.replyLateness))"
    }

    static func monotonicNanoseconds() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(max(spec.tv_sec, 0)) &* 1_000_000_000 &+ UInt64(max(spec.tv_nsec, 0))
    }

    /// Whole nanoseconds in `seconds`, 0 for anything not positive, at most a day: the settings
    /// are validated far below that, so the clamp only guards the conversion.
    static func nanoseconds(_ seconds: Double) -> UInt64 {
        guard seconds.isFinite, seconds > 0 else { return 0 }
        return UInt64((min(seconds, 86_400) * 1e9).rounded())
    }

    static func adding(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? .max : sum
    }

    static func seconds(since start: UInt64, at now: UInt64) -> Double {
        Double(now - min(now, start)) / 1e9
    }
}
