import Foundation
import Glibc
import PendulumIO
import Testing
@testable import PendulumSync
import PendulumCommands

func sampleSnapshot() -> ObservationSnapshot {
    ObservationSnapshot(
        system: .init(
            synchronized: true, stratum: 3, referenceID: "7F000001", leap: 0, offsetSeconds: 1.5e-6,
            uncertaintySeconds: 2e-6, rootDelaySeconds: 1e-4, rootDispersionSeconds: 2e-4, frequencyPPM: -29.5
        ),
        clock: .init(kind: "overlay", offsetFromSystemSeconds: 3e-6, frequencyPPM: -29.5),
        sources: [
            .init(name: "127.0.0.1:123", address: "127.0.0.1:123", mode: "nts", reachable: true, reach: 0o377, offsetSeconds: 1e-6,
                  delaySeconds: 3e-5, uncertaintySeconds: 1e-6, poll: 4, stratum: 2, nts: true, cookies: 8,
                  selected: true, falseticker: false, lastError: nil),
            .init(name: "192.0.2.1:123", address: nil, mode: "server", reachable: false, reach: 0, offsetSeconds: nil,
                  delaySeconds: nil, uncertaintySeconds: nil, poll: nil, stratum: nil, nts: false, cookies: nil,
                  selected: false, falseticker: true, lastError: "no reply"),
        ],
        servers: [.init(listen: "127.0.0.1:11123", counters: ["responses": 5, "rate_limited": 1])]
    )
}

@Suite struct ObservationTests {
    @Test func socketServesTheSnapshotAsJSON() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("observe-\(UUID().uuidString.prefix(8))").path
        let server = try ObservationServer(path: path) { sampleSnapshot() }
        try server.start()
        defer { server.stop() }
        let data = try ObservationServer.read(from: path)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let system = try #require(object["system"] as? [String: Any])
        #expect(system["synchronized"] as? Bool == true)
        #expect(system["stratum"] as? Int == 3)
        #expect(system["offset_seconds"] as? Double == 1.5e-6)
        let clock = try #require(object["clock"] as? [String: Any])
        #expect(clock["kind"] as? String == "overlay")
        #expect(clock["offset_from_system_seconds"] as? Double == 3e-6)
        let sources = try #require(object["sources"] as? [[String: Any]])
        #expect(sources.count == 2)
        for key in ["address", "mode", "reachable", "offset_seconds", "delay_seconds", "uncertainty_seconds", "poll", "nts", "cookies"] {
            #expect(sources[0][key] != nil, "missing \(key)")
        }
        #expect(sources[1]["falseticker"] as? Bool == true)
        #expect(object["servers"] is [[String: Any]])
    }

    /// A misconfigured path must not cost a file, and a directory someone else can write must
    /// not get the socket (they could swap it and answer `pendulum status` themselves).
    @Test func theSocketNeitherReplacesAFileNorGoesWhereOthersCanSwapIt() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("observe-hostile-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        defer { try? FileManager.default.removeItem(atPath: base) }
        func failure(_ path: String) -> String? {
            do {
                let server = try ObservationServer(path: path) { sampleSnapshot() }
                server.stop()
                return nil
            } catch {
                return "\(error)"
            }
        }
        let file = base + "/precious"
        try "keep me\n".write(toFile: file, atomically: false, encoding: .utf8)
        #expect(failure(file)?.contains("something other than a socket is there") == true)
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "keep me\n")

        let open = base + "/open"
        try FileManager.default.createDirectory(atPath: open, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o777])
        chmod(open, 0o777)
        #expect(failure(open + "/observe")?.contains("writable by others (mode 777) and not sticky") == true)
        chmod(open, 0o1777)
        #expect(failure(open + "/observe") == nil, "sticky, as /tmp: allowed")

        let foreign = base + "/foreign"
        try FileManager.default.createDirectory(atPath: foreign, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        // The suite runs as root (CI does), which may give the directory away.
        #expect(chown(foreign, 1234, 1234) == 0)
        #expect(failure(foreign + "/observe")?.contains("owned by uid 1234") == true)

        let link = base + "/link"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: open)
        #expect(failure(link + "/observe")?.contains("not a directory (a symbolic link?)") == true)
    }

    @Test func readingAMissingSocketIsAClearError() {
        #expect(throws: ObservationServer.Failure.self) { try ObservationServer.read(from: "/nonexistent/pendulum-observe") }
    }

    @Test func metricsAreServedInPrometheusFormat() throws {
        let endpoint = try MetricsEndpoint(host: "127.0.0.1", port: 0) { sampleSnapshot() }
        try endpoint.start()
        defer { endpoint.stop() }
        let body = try httpGet(port: endpoint.port, path: "/metrics")
        #expect(body.hasPrefix("HTTP/1.0 200 OK"))
        #expect(body.contains("pendulum_system_stratum 3"))
        #expect(body.contains("pendulum_system_synchronized 1"))
        #expect(body.contains(#"pendulum_source_selected{source="127.0.0.1:123",mode="nts"} 1"#))
        #expect(body.contains(#"pendulum_source_falseticker{source="192.0.2.1:123",mode="server"} 1"#))
        #expect(body.contains(#"pendulum_server_packets{listen="127.0.0.1:11123",class="responses"} 5"#))
        #expect(body.contains("# TYPE pendulum_clock_frequency_ppm gauge"))
        #expect(try httpGet(port: endpoint.port, path: "/other").hasPrefix("HTTP/1.0 404"))
        // Rendering twice reuses the registered gauges instead of failing on duplicates.
        #expect(endpoint.render().contains("pendulum_system_stratum 3"))
    }

    @Test func statusTableNamesSelectedAndFalsetickers() {
        let text = StatusTableProbe.render(sampleSnapshot())
        #expect(text.contains("synchronised     yes, stratum 3"))
        #expect(text.contains("* 127.0.0.1:123"))
        #expect(text.contains("x 192.0.2.1:123"))
        #expect(text.contains("falseticker"))
        #expect(text.contains("responded 0, rate_limited 1, responses 5"))
    }

    @Test func keyExchangeCountersReachStatusMetricsAndJSON() throws {
        var snapshot = sampleSnapshot()
        snapshot.keyExchangeServers = [.init(listen: "127.0.0.1:4460", counters: ["accepted": 7, "answered": 6, "shed": 1, "timed_out": 0])]
        let text = StatusTableProbe.render(snapshot)
        #expect(text.contains("127.0.0.1:4460"))
        #expect(text.contains("accepted 7, answered 6, shed 1"))
        #expect(!text.contains("timed_out"))

        let served = snapshot
        let endpoint = try MetricsEndpoint(host: "127.0.0.1", port: 0) { served }
        let body = endpoint.render()
        endpoint.stop()
        #expect(body.contains(#"pendulum_nts_ke_connections{listen="127.0.0.1:4460",class="shed"} 1"#))

        let json = String(decoding: try JSONEncoder().encode(snapshot), as: UTF8.self)
        #expect(json.contains(#""nts_ke_servers""#))
        // A daemon without NTS-KE (or an older one) sends no such key: still readable.
        let withoutKeyExchange = try JSONEncoder().encode(sampleSnapshot())
        #expect(!String(decoding: withoutKeyExchange, as: UTF8.self).contains("nts_ke"))
        #expect(try JSONDecoder().decode(ObservationSnapshot.self, from: withoutKeyExchange).keyExchangeServers == nil)
    }

    @Test func systemdReadinessReachesTheNotifySocket() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("notify-\(UUID().uuidString.prefix(8))").path
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd); unlink(path) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8) + [0]) }
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        setenv("NOTIFY_SOCKET", path, 1)
        defer { unsetenv("NOTIFY_SOCKET") }
        #expect(SystemdNotifier.notify("READY=1"))
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        #expect(count == 7)
        #expect(String(decoding: buffer.prefix(max(0, count)), as: UTF8.self) == "READY=1")
    }
}

/// Plain-socket HTTP GET, so the test does not depend on the endpoint's own code to read.
func httpGet(port: UInt16, path: String) throws -> String {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw SystemCallError("connect") }
    let request = Array("GET \(path) HTTP/1.0\r\nHost: localhost\r\n\r\n".utf8)
    _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
    var timeout = timeval(tv_sec: 3, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var response: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = recv(fd, &buffer, buffer.count, 0)
        if count <= 0 { break }
        response += buffer[0..<count]
    }
    return String(decoding: response, as: UTF8.self)
}
