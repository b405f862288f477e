import Foundation
@testable import Pendulum
import PendulumTime
import Testing

/// The library's one call, `SecureTime.now(from:)`, against real NTS servers on loopback: two
/// chronyd -x and a pendulum-ntpd whose overlay clock is one second wrong.
@Suite(.serialized) struct SecureTimeAgainstChronyTests {
    @Test func authenticatedTimeWithABoundAndTheWrongServerNamed() async throws {
        let certificates = try [TestCertificate(), TestCertificate()]
        defer { certificates.forEach { $0.remove() } }
        let chronys = try certificates.map { try ChronyServer(stratum: 2, certificate: $0) }
        defer { chronys.forEach { $0.stop() } }
        let wrong = try NTPDaemonProcess(nts: true, localStratum: 1, extraLines: ["[clock]", "kind = \"overlay\"", "initial-offset-seconds = 1.0"])
        defer { wrong.remove() }

        var servers = try zip(chronys, certificates).map { chrony, certificate in
            TimeServer.nts("127.0.0.1", keyExchangePort: try #require(chrony.ntsKEPort), caFile: certificate.certificatePath)
        }
        servers.insert(.nts("127.0.0.1", keyExchangePort: try #require(wrong.ntsKEPort), caFile: wrong.certificate?.certificatePath), at: 1)
        let reading = try await SecureTime.now(from: servers, options: SecureTimeOptions(samplesPerServer: 3, interval: .milliseconds(200)))

        #expect(reading.authenticated)
        #expect(reading.agreeing.map(\.port).sorted() == chronys.map(\.port).sorted(), "\(reading.agreeing)")
        #expect(reading.falsetickers.map(\.port) == [wrong.ntpPort], "\(reading.falsetickers)")
        #expect(reading.failures.isEmpty, "\(reading.failures)")
        // chronyd -x serves this machine's clock: the true offset is 0 (loopback asymmetry aside).
        #expect(abs(reading.offsetFromSystemClock.seconds) <= reading.errorBound.seconds, "offset \(reading.offsetFromSystemClock) outside ±\(reading.errorBound)")
        #expect(reading.errorBound < .milliseconds(5), "bound \(reading.errorBound)")
        // The system clock is true time here; it read between `before` and `after`.
        let before = UnixTime(Date().timeIntervalSince1970)
        let now = reading.now()
        let after = UnixTime(Date().timeIntervalSince1970)
        #expect(now.earliest <= after && before <= now.latest, "system clock [\(before), \(after)] outside [\(now.earliest), \(now.latest)]")
        for measurement in reading.agreeing {
            #expect(measurement.aead == 15 && (measurement.cookies ?? 0) >= 1, "\(measurement)")
        }
        print("SecureTime: offset \(reading.offsetFromSystemClock) ± \(reading.errorBound) from \(reading.agreeing.count) agreeing; falseticker \(reading.falsetickers.map { "\($0.port) \($0.offset)" })")
    }

    /// A program's own disciplined clock (`DisciplinedClock`), started 0.5 s wrong, following the
    /// same three servers once a second: steered to the agreeing ones, true time inside its
    /// bound, the wrong server outvoted.
    @Test func aDisciplinedClockFollowsTheAgreeingServersAndOutvotesTheWrongOne() async throws {
        let trio = try ThreeNTSServers()
        defer { trio.remove() }
        let (certificate, chronys, wrong) = (trio.certificate, trio.chronys, trio.wrong)
        let servers = try [chronys[0].ntsKEPort, wrong.ntsKEPort, chronys[1].ntsKEPort].map {
            TimeServer.nts("127.0.0.1", keyExchangePort: try #require($0), caFile: certificate.certificatePath)
        }
        let clock = try DisciplinedClock(servers: servers, options: DisciplinedClockOptions(pollLog2: 0...0), logger: nil, initialOffset: .milliseconds(-500))
        #expect(abs(clock.now().offsetFromSystemClock.seconds + 0.5) < 0.001)
        defer { clock.stop() }
        let started = ContinuousClock.now
        let first = try await clock.waitUntilSynchronized(timeout: .seconds(30))
        let synchronizedAfter = ContinuousClock.now - started
        let firstBound = try #require(first.errorBound)
        #expect(abs(first.offsetFromSystemClock.seconds) <= firstBound.seconds, "first reading \(first)")
        // Judge it over the next 10 s: chronyd -x serves this machine's clock, so the true
        // offset of the disciplined clock is its offset from the system clock.
        var worst = 0.0
        var widest = 0.0
        for _ in 0..<20 {
            try await Task.sleep(for: .milliseconds(500))
            let reading = clock.now()
            let bound = try #require(reading.errorBound)
            #expect(reading.synchronized)
            #expect(abs(reading.offsetFromSystemClock.seconds) <= bound.seconds, "offset \(reading.offsetFromSystemClock) outside ±\(bound)")
            worst = max(worst, abs(reading.offsetFromSystemClock.seconds))
            widest = max(widest, bound.seconds)
        }
        #expect(worst < 0.001, "worst offset \(worst) s")
        let sources = clock.sources
        #expect(sources.map(\.server) == servers)
        #expect(sources.filter(\.falseticker).map(\.server) == [servers[1]], "\(sources)")
        let primary = sources.filter(\.primary).map(\.server)
        #expect(primary == [servers[0]] || primary == [servers[2]], "\(sources)")
        print("DisciplinedClock: synchronised after \(synchronizedAfter) (first reading \(first.offsetFromSystemClock) ± \(first.errorBound.map { "\($0)" } ?? "-")); worst offset \(worst * 1e6) µs, widest bound \(widest * 1e6) µs over 10 s; outvoted \(sources.filter(\.falseticker).map(\.server.description))")
    }

    /// Examples/SecureTimeExample, an app that uses the library by path (built by
    /// scripts/test.sh), against the same three servers: one reading, then its own clock.
    @Test func theExampleAppGetsAuthenticatedTimeAndKeepsItsOwnClock() throws {
        let example = TestPaths.productsDirectory.appendingPathComponent("SecureTimeExample").path
        guard FileManager.default.isExecutableFile(atPath: example) else {
            Issue.record("\(example) is missing: scripts/test.sh builds it (swift build --package-path Examples/SecureTimeExample --scratch-path .build)")
            return
        }
        let trio = try ThreeNTSServers()
        defer { trio.remove() }
        let (certificate, chronys, wrong) = (trio.certificate, trio.chronys, trio.wrong)
        let wrongPort = try #require(wrong.ntsKEPort)
        let hosts = try [chronys[0].ntsKEPort, wrongPort, chronys[1].ntsKEPort].map { "127.0.0.1:\(try #require($0))" }
        let result = try ChildProcess.run(example, ["--ca-file", certificate.certificatePath, "--follow", "5"] + hosts)
        #expect(result.status == 0, "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("time: ") == true && lines.first?.hasSuffix("(authenticated)") == true, "\(lines)")
        #expect(lines.filter { $0.hasPrefix("agreeing: ") }.count == 2, "\(lines)")
        #expect(lines.filter { $0.hasPrefix("outvoted: ") } == lines.filter { $0.hasPrefix("outvoted: nts://127.0.0.1:\(wrongPort) ") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("outvoted: ") } && !lines.contains { $0.hasPrefix("failed: ") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("disciplined after 5 s: synchronised, ") }, "\(lines)")
        #expect(lines.contains("disciplined outvoted: nts://127.0.0.1:\(wrongPort)"), "\(lines)")
        print(result.stdout)
    }

    /// The same from the command line: `pendulum query --nts` with three servers.
    @Test func queryWithThreeServersReportsTheAgreedTimeAndTheOutvotedOne() throws {
        let trio = try ThreeNTSServers()
        defer { trio.remove() }
        let (certificate, chronys, wrong) = (trio.certificate, trio.chronys, trio.wrong)
        let hosts = try [chronys[0].ntsKEPort, wrong.ntsKEPort, chronys[1].ntsKEPort].map { "127.0.0.1:\(try #require($0))" }
        let arguments = ["query", "--nts", "--ca-file", certificate.certificatePath, "--samples", "2", "--interval", "0.2"] + hosts
        let result = try ChildProcess.run(TestPaths.pendulum, arguments + ["--json"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["authenticated"] as? Bool == true)
        let servers = try #require(object["servers"] as? [[String: Any]])
        #expect(Set(servers.filter { $0["role"] as? String == "agreeing" }.compactMap { $0["port"] as? Int }) == Set(chronys.map { Int($0.port) }), "\(servers)")
        #expect(servers.filter { $0["role"] as? String == "falseticker" }.compactMap { $0["port"] as? Int } == [Int(wrong.ntpPort)], "\(servers)")
        let offset = try #require(object["offset_seconds"] as? Double)
        let bound = try #require(object["error_bound_seconds"] as? Double)
        #expect(abs(offset) <= bound && bound < 0.005, "offset \(offset), bound \(bound)")

        let text = try ChildProcess.run(TestPaths.pendulum, arguments)
        #expect(text.status == 0 && text.stdout.contains("OUTVOTED") && text.stdout.contains("authenticated (NTS)"), "\(text.stdout)\n\(text.stderr)")
        print(text.stdout)
    }

    /// Two servers that disagree give no time at all rather than a guess.
    @Test func twoServersThatDisagreeGiveNoTime() async throws {
        let certificate = try TestCertificate()
        defer { certificate.remove() }
        let chrony = try ChronyServer(stratum: 2, certificate: certificate)
        defer { chrony.stop() }
        let wrong = try NTPDaemonProcess(nts: false, localStratum: 1, extraLines: ["[clock]", "kind = \"overlay\"", "initial-offset-seconds = 1.0"])
        defer { wrong.remove() }
        let servers: [TimeServer] = [
            .nts("127.0.0.1", keyExchangePort: try #require(chrony.ntsKEPort), caFile: certificate.certificatePath),
            .unauthenticated("127.0.0.1", port: wrong.ntpPort),
        ]
        do {
            let reading = try await SecureTime.now(from: servers, options: SecureTimeOptions(samplesPerServer: 2, interval: .milliseconds(200)))
            Issue.record("disagreeing servers gave \(reading.time)")
        } catch {
            guard case .noAgreement(let answered, let largestGroup, let needed, _) = error else { Issue.record("\(error)"); return }
            #expect(answered.count == 2 && largestGroup == 1 && needed == 2)
            #expect(error.code == "no-agreement")
        }
    }
}

/// Two chronyd -x NTS servers and a pendulum-ntpd NTS server 1 s wrong, one certificate for all.
private struct ThreeNTSServers {
    let certificate: TestCertificate
    let chronys: [ChronyServer]
    let wrong: NTPDaemonProcess

    init() throws {
        certificate = try TestCertificate()
        do {
            chronys = try [ChronyServer(stratum: 2, certificate: certificate), ChronyServer(stratum: 2, certificate: certificate)]
        } catch {
            certificate.remove()
            throw error
        }
        do {
            wrong = try NTPDaemonProcess(nts: true, sharedCertificate: certificate, localStratum: 1, extraLines: ["[clock]", "kind = \"overlay\"", "initial-offset-seconds = 1.0"])
        } catch {
            chronys.forEach { $0.stop() }
            certificate.remove()
            throw error
        }
    }

    func remove() {
        wrong.remove()
        chronys.forEach { $0.stop() }
        certificate.remove()
    }
}

extension UnixTime {
    fileprivate init(_ seconds: TimeInterval) {
        let whole = seconds.rounded(.down)
        self.init(seconds: Int64(whole), nanoseconds: Int64((seconds - whole) * 1e9))
    }
}
