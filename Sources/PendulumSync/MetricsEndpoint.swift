import Glibc
import NIOConcurrencyHelpers
import PendulumIO
import Prometheus

/// Prometheus metrics for the daemon, rendered from the same snapshot `pendulum status` shows,
/// served over a deliberately small HTTP/1.0 responder: one request per connection, GET
/// /metrics only, bounded reads and a read timeout, so a scraper (or anything else that
/// connects) cannot hold the daemon up.
package final class MetricsEndpoint: @unchecked Sendable {
    let registry = PrometheusCollectorRegistry()
    private let snapshot: @Sendable () -> ObservationSnapshot
    private let descriptor: Int32
    private var thread: DaemonThread?
    private let lock = NIOLock()
    private var stopped = false
    package let port: UInt16

    package struct Failure: Error, CustomStringConvertible {
        package var description: String
    }

    /// Binds `host:port` (numeric IPv4 or IPv6; port 0 picks one).
    package init(host: String, port: UInt16, snapshot: @escaping @Sendable () -> ObservationSnapshot) throws {
        self.snapshot = snapshot
        let isIPv6 = host.contains(":")
        let fd = socket(isIPv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "metrics socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var storage = sockaddr_storage()
        var length: socklen_t
        if isIPv6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            guard inet_pton(AF_INET6, NameResolver.unbracketed(host), &address.sin6_addr) == 1 else {
                close(fd)
                throw Failure(description: "metrics-listen: \(host) is not an IP address")
            }
            withUnsafeMutableBytes(of: &storage) { $0.copyBytes(from: withUnsafeBytes(of: address) { Array($0) }) }
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
                close(fd)
                throw Failure(description: "metrics-listen: \(host) is not an IP address")
            }
            withUnsafeMutableBytes(of: &storage) { $0.copyBytes(from: withUnsafeBytes(of: address) { Array($0) }) }
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
        }
        let bound = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw -> Int32 in
                guard bind(fd, raw, length) == 0, listen(fd, 16) == 0 else { return -1 }
                return getsockname(fd, raw, &length)
            }
        }
        guard bound == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw Failure(description: "metrics-listen \(host):\(port): \(reason)")
        }
        self.port = isIPv6
            ? UInt16(bigEndian: withUnsafeBytes(of: storage) { $0.load(as: sockaddr_in6.self).sin6_port })
            : UInt16(bigEndian: withUnsafeBytes(of: storage) { $0.load(as: sockaddr_in.self).sin_port })
        descriptor = fd
    }

    package func start() throws {
        thread = try DaemonThread(name: "metrics") { [self] in serve() }
    }

    /// Idempotent: a second stop must not close a descriptor number someone has since reused.
    package func stop() {
        let wasStopped = lock.withLock { () -> Bool in
            defer { stopped = true }
            return stopped
        }
        guard !wasStopped else { return }
        // The loop looks at the flag at least every 200 ms and a scraper gets 1 s at most.
        thread?.join()
        close(descriptor)
    }

    private func serve() {
        while !lock.withLock({ stopped }) {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 200) > 0 else { continue }
            let client = accept(descriptor, nil, nil)
            guard client >= 0 else { continue }
            handle(client)
            close(client)
        }
    }

    private func handle(_ client: Int32) {
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var request: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1024)
        // Only the request line matters; stop at the end of the headers or 4 KiB.
        while request.count < 4096, !request.containsHeaderEnd {
            let count = recv(client, &buffer, buffer.count, 0)
            if count <= 0 { break }
            request += buffer[0..<count]
        }
        let line = String(decoding: request.prefix { $0 != 0x0D && $0 != 0x0A }, as: UTF8.self)
        let response: String
        if line.hasPrefix("GET /metrics ") || line == "GET /metrics" {
            let body = render()
            response = "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body
        } else {
            response = "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n"
        }
        let bytes = Array(response.utf8)
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count <= 0 { break }
            sent += count
        }
    }

    /// Sets the gauge `name` (a whole Prometheus name; the registry keeps one per name and
    /// label set, so rendering again updates it).
    func setGauge(_ name: String, _ help: String, _ value: Double, labels: [(String, String)] = []) {
        let descriptor = MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
        let metric = labels.isEmpty ? registry.makeGauge(descriptor: descriptor) : registry.makeGauge(descriptor: descriptor, labels: labels)
        metric.set(value)
    }

    /// The Prometheus text exposition of the current snapshot, names prefixed `pendulum_`.
    package func render() -> String {
        let state = snapshot()
        let system = state.system
        setGauge("pendulum_system_synchronized", "1 when the daemon considers its clock synchronised", system.synchronized ? 1 : 0)
        setGauge("pendulum_system_stratum", "Stratum the daemon serves", Double(system.stratum))
        setGauge("pendulum_system_leap", "Leap indicator the daemon serves (3: unsynchronised)", Double(system.leap))
        setGauge("pendulum_system_offset_seconds", "Estimated offset of the combined sources from the local clock", system.offsetSeconds)
        setGauge("pendulum_system_uncertainty_seconds", "Uncertainty of that offset", system.uncertaintySeconds)
        setGauge("pendulum_system_root_delay_seconds", "Root delay the daemon serves", system.rootDelaySeconds)
        setGauge("pendulum_system_root_dispersion_seconds", "Root dispersion the daemon serves", system.rootDispersionSeconds)
        setGauge("pendulum_clock_frequency_ppm", "Frequency correction applied to the clock", state.clock.frequencyPPM)
        if let offset = state.clock.offsetFromSystemSeconds {
            setGauge("pendulum_clock_offset_from_system_seconds", "Overlay clock minus system clock", offset)
        }
        for source in state.sources {
            let labels = [("source", source.name), ("mode", source.mode)]
            setGauge("pendulum_source_reachable", "1 when the source answered one of the last 8 polls", source.reachable ? 1 : 0, labels: labels)
            setGauge("pendulum_source_selected", "1 for the source the clock follows", source.selected ? 1 : 0, labels: labels)
            setGauge("pendulum_source_falseticker", "1 when selection rejected the source", source.falseticker ? 1 : 0, labels: labels)
            if let offset = source.offsetSeconds { setGauge("pendulum_source_offset_seconds", "Estimated source offset", offset, labels: labels) }
            if let delay = source.delaySeconds { setGauge("pendulum_source_delay_seconds", "Last round-trip delay", delay, labels: labels) }
            if let uncertainty = source.uncertaintySeconds {
                setGauge("pendulum_source_uncertainty_seconds", "Uncertainty of the source offset", uncertainty, labels: labels)
            }
            if let poll = source.poll { setGauge("pendulum_source_poll_log2_seconds", "Poll interval, log2 seconds", Double(poll), labels: labels) }
        }
        for (name, help, servers) in [
            ("pendulum_server_packets", "Server packets by class", state.servers),
            ("pendulum_nts_ke_connections", "NTS-KE connections by class since start", state.keyExchangeServers ?? []),
        ] {
            for server in servers {
                for (counter, value) in server.counters {
                    setGauge(name, help, Double(value), labels: [("listen", server.listen), ("class", counter)])
                }
            }
        }
        if let ptp = state.ptp { addPTPGauges(ptp) }
        var output: [UInt8] = []
        registry.emit(into: &output)
        return String(decoding: output, as: UTF8.self)
    }
}

extension Array where Element == UInt8 {
    fileprivate var containsHeaderEnd: Bool {
        count >= 4 && indices.dropLast(3).contains { self[$0] == 0x0D && self[$0 + 1] == 0x0A && self[$0 + 2] == 0x0D && self[$0 + 3] == 0x0A }
    }
}
