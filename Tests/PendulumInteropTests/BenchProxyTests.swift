import Foundation
import Testing

/// `pendulum bench proxy` as the accuracy benchmark runs it: in front of a chronyd -x server,
/// measured through with `pendulum query`.
@Suite(.serialized) struct BenchProxyTests {
    /// The counts at the start of the summary line: "proxy: N requests (M dropped), …".
    private static func requestCounts(_ summary: String) -> (requests: Int, dropped: Int)? {
        let words = summary.split(separator: " ")
        guard let index = words.firstIndex(of: "requests"), index >= 1, index + 1 < words.count,
              let requests = Int(words[index - 1]), let dropped = Int(words[index + 1].dropFirst()) else { return nil }
        return (requests, dropped)
    }

    private static func startProxy(upstream: UInt16, _ extra: [String], seconds: Int = 30) throws -> (ChildProcess, UInt16) {
        let port = freeUDPPort()
        let proxy = ChildProcess(TestPaths.pendulum, [
            "bench", "proxy", "--listen", "127.0.0.1:\(port)", "--upstream", "127.0.0.1:\(upstream)", "--seconds", "\(seconds)",
        ] + extra)
        try proxy.start()
        usleep(300_000)  // it binds right after parsing its options
        #expect(proxy.process.isRunning, "\(proxy.standardError)")
        return (proxy, port)
    }

    @Test func queryThroughTheProxySeesItsDelayAndNoOffset() async throws {
        let chrony = try ChronyServer(stratum: 2)
        defer { chrony.stop() }
        let (proxy, port) = try Self.startProxy(upstream: chrony.port, ["--delay", "0.005", "--seed", "3"])
        defer { proxy.stop() }
        let result = try await offCooperativePool {
            try ChildProcess.run(TestPaths.pendulum, ["query", "--port", "\(port)", "--json", "127.0.0.1"], timeout: 20)
        }
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)")
        let delay = try #require(object["delay_seconds"] as? Double)
        let offset = try #require(object["offset_seconds"] as? Double)
        // 5 ms each way; the proxy may only add to it, and a loaded machine adds a little.
        #expect(delay >= 0.009 && delay <= 0.030, "delay \(delay)")
        #expect(abs(offset) <= 0.002, "offset \(offset)")
        proxy.stop()  // SIGTERM: it stops cleanly and still reports
        let counts = try #require(Self.requestCounts(proxy.standardOutput), "\(proxy.standardOutput) \(proxy.standardError)")
        #expect(counts.requests >= 4)
        #expect(counts.dropped == 0)
    }

    @Test func totalLossMakesTheQueryFail() async throws {
        let chrony = try ChronyServer(stratum: 2)
        defer { chrony.stop() }
        let (proxy, port) = try Self.startProxy(upstream: chrony.port, ["--loss", "1"])
        defer { proxy.stop() }
        let result = try await offCooperativePool {
            try ChildProcess.run(TestPaths.pendulum, ["query", "--port", "\(port)", "--timeout", "2", "--samples", "2", "127.0.0.1"], timeout: 20)
        }
        #expect(result.status != 0)
        proxy.stop()
        let counts = try #require(Self.requestCounts(proxy.standardOutput), "\(proxy.standardOutput) \(proxy.standardError)")
        #expect(counts.requests >= 1)
        #expect(counts.dropped == counts.requests)
    }

    @Test func stopsByItselfAfterItsSeconds() async throws {
        let chrony = try ChronyServer(stratum: 2)
        defer { chrony.stop() }
        let started = Date()
        let (proxy, _) = try Self.startProxy(upstream: chrony.port, ["--jitter", "0.001"], seconds: 2)
        defer { proxy.stop() }
        let status = try await offCooperativePool { proxy.wait(timeout: 15) }
        let elapsed = Date().timeIntervalSince(started)
        #expect(status == 0, "\(proxy.standardError)")
        #expect(elapsed >= 1.9 && elapsed < 10, "\(elapsed) s")
        #expect(Self.requestCounts(proxy.standardOutput)?.requests == 0, "\(proxy.standardOutput)")
    }

    @Test(arguments: [
        ["--listen", "192.0.2.1:123", "--upstream", "127.0.0.1:123"],
        ["--listen", "0.0.0.0:12345", "--upstream", "127.0.0.1:123"],
        ["--listen", "127.0.0.1:12345", "--upstream", "192.0.2.1:123"],
        ["--listen", "127.0.0.1:12345", "--upstream", "127.0.0.1:0"],
    ])
    func refusesAnythingButLoopback(addresses: [String]) throws {
        let result = try ChildProcess.run(TestPaths.pendulum, ["bench", "proxy"] + addresses + ["--seconds", "1"], timeout: 10)
        #expect(result.status != 0)
        #expect(result.stderr.contains("loopback"), "\(result.stderr)")
    }

    @Test(arguments: [
        ["--loss", "1.5"], ["--delay", "nan"], ["--jitter", "20"], ["--request-loss", "2"], ["--step", "0.001"],
        ["--step-at", "10", "--reply-step", "inf"], ["--seconds", "0"], ["--seconds", "7201"],
    ])
    func refusesBadValuesWithAMessage(options: [String]) throws {
        let base = ["bench", "proxy", "--listen", "127.0.0.1:12345", "--upstream", "127.0.0.1:123"]
        let seconds = options.contains("--seconds") ? [] : ["--seconds", "1"]
        let result = try ChildProcess.run(TestPaths.pendulum, base + options + seconds, timeout: 10)
        #expect(result.status != 0)
        #expect(result.stderr.contains("Error"), "\(result.stderr)")
        #expect(!result.stderr.contains("Fatal error"), "\(result.stderr)")
    }

    @Test func secondsAreRequired() throws {
        let result = try ChildProcess.run(TestPaths.pendulum, ["bench", "proxy", "--listen", "127.0.0.1:12345", "--upstream", "127.0.0.1:123"], timeout: 10)
        #expect(result.status != 0)
        #expect(result.stderr.contains("--seconds"), "\(result.stderr)")
    }
}
