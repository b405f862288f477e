import Foundation
import Logging
import PendulumDiscipline
import PendulumIO
import PendulumNTPClient
import PendulumClientEngine
import PendulumSync
import Testing

/// A pool is every address its name resolves to, used as separate servers, and a member that
/// never answers is replaced with a fresh address. The name is resolved by a fixed resolver
/// (this machine's DNS cannot be made to return several loopback addresses) to three loopback
/// addresses; our server answers on 127.0.0.1 and 127.0.0.3 only.
extension NTPDaemonInteropTests {
    @Suite(.serialized) struct PoolSourceTests {
        final class LogLines: @unchecked Sendable {
            private let lock = NSLock()
            private var lines: [String] = []
            func append(_ line: String) { lock.withLock { lines.append(line) } }
            var all: String { lock.withLock { lines.joined(separator: "\n") } }
        }

        struct Collecting: LogHandler {
            let lines: LogLines
            var logLevel: Logger.Level = .info
            var metadata: Logger.Metadata = [:]
            subscript(metadataKey key: String) -> Logger.Metadata.Value? {
                get { metadata[key] }
                set { metadata[key] = newValue }
            }
            func log(event: LogEvent) { lines.append("\(event.level): \(event.message)") }
        }

        @Test func aPoolUsesItsAddressesAndReplacesAnUnreachableOne() async throws {
            let server = try await offCooperativePool { try NTPDaemonProcess(nts: false, localStratum: 2, extraLines: [] ) }
            defer { server.remove() }
            let port = server.ntpPort
            // A second listener of the same daemon on 127.0.0.3: restart it with both.
            try await offCooperativePool {
                server.stop()
                var text = try String(contentsOfFile: server.configPath, encoding: .utf8)
                text = "[[server]]\nlisten = \"127.0.0.3:\(port)\"\n" + text
                try text.write(toFile: server.configPath, atomically: true, encoding: .utf8)
                try server.start()
            }
            let lines = LogLines()
            let clock = OverlayClock(initialOffset: .milliseconds(250), intrinsicFrequencyError: 30e-6)
            let addresses = ["127.0.0.1", "127.0.0.2", "127.0.0.3"].compactMap { SocketAddress(ip: $0, port: port) }
            var configuration = DisciplineConfiguration()
            configuration.minimumAgreeingSources = 2
            let engine = SynchronizationEngine(
                clock: clock, sources: [SourceSpecification(host: "pool.test", port: port, mode: .pool, poolCount: 2)],
                configuration: configuration, logger: Logger(label: "test") { _ in Collecting(lines: lines) },
                resolve: { host, _ in host == "pool.test" ? addresses : [] }
            )
            try engine.start()
            defer { engine.stop() }
            var snapshot = engine.snapshot()
            for _ in 0..<90 {
                try await Task.sleep(for: .seconds(1))
                snapshot = engine.snapshot()
                if snapshot.system.synchronized, snapshot.sources.count == 2, snapshot.sources.allSatisfy(\.reachable) { break }
            }
            let log = lines.all
            #expect(log.contains("pool pool.test: using 127.0.0.1:\(port)"), "\(log)")
            #expect(log.contains("pool pool.test: using 127.0.0.2:\(port)"), "\(log)")
            #expect(log.contains("127.0.0.2:\(port) replaced: unreachable"), "\(log)")
            #expect(log.contains("pool pool.test: using 127.0.0.3:\(port)"), "\(log)")
            #expect(snapshot.system.synchronized, "\(snapshot.sources)")
            #expect(Set(snapshot.sources.map(\.name)) == ["127.0.0.1:\(port)", "127.0.0.3:\(port)"])
            #expect(snapshot.sources.allSatisfy { $0.pool == "pool.test" && $0.reachable })
            // The core says synchronised a moment before the loop has stepped the clock (the
            // step is carried out after the core's lock is released): give it that moment.
            for _ in 0..<20 where abs(clock.offsetFromSystem.seconds) >= 0.001 { try await Task.sleep(for: .milliseconds(100)) }
            #expect(abs(clock.offsetFromSystem.seconds) < 0.001, "\(lines.all)")
        }
    }
}
