import Glibc
import PendulumIO
import PendulumNTP
import PendulumTime
import Testing
@testable import Pendulum

struct SecureTimeTests {
    @Test func noServersIsATypedError() async {
        await #expect(throws: SecureTimeError.noServers) { try await SecureTime.now(from: []) }
    }

    @Test func impossibleOptionsAreRefusedBeforeAnythingIsSent() async {
        await #expect(throws: SecureTimeError.invalidOptions("samplesPerServer must be between 1 and 64")) {
            try await SecureTime.now(from: [.unauthenticated("127.0.0.1")], options: SecureTimeOptions(samplesPerServer: 0))
        }
        await #expect(throws: SecureTimeError.invalidOptions("minimumAgreeing must be at least 1")) {
            try await SecureTime.now(from: [.unauthenticated("127.0.0.1")], options: SecureTimeOptions(minimumAgreeing: 0))
        }
    }

    @Test func aServerThatNeverAnswersIsReportedByNameAndCode() async throws {
        let silent = try SilentPort()
        defer { silent.close() }
        let options = SecureTimeOptions(samplesPerServer: 2, interval: .milliseconds(100), timeout: .milliseconds(600))
        do {
            _ = try await SecureTime.now(from: [.unauthenticated("127.0.0.1", port: silent.port)], options: options)
            Issue.record("a silent server gave a time")
        } catch {
            guard case .noAnswer(let failures) = error else { Issue.record("\(error)"); return }
            #expect(failures.map(\.failure.code) == ["no-reply"])
            #expect(error.description.contains("127.0.0.1"), "\(error)")
        }
    }

    /// Cancelling the calling task ends the blocking query (which would wait 60 s) at once. The
    /// limit is loose on purpose: run beside blocking tests in one process, the test's own task
    /// has waited 14 s for a cooperative thread; only a query that ran on proves nothing ended it.
    @Test func cancellingTheTaskEndsTheQuery() async throws {
        let silent = try SilentPort()
        defer { silent.close() }
        let options = SecureTimeOptions(samplesPerServer: 8, interval: .seconds(8), timeout: .seconds(60))
        let started = ContinuousClock.now
        let task = Task { try await SecureTime.now(from: [.unauthenticated("127.0.0.1", port: silent.port)], options: options) }
        try await Task.sleep(for: .milliseconds(300))
        task.cancel()
        await #expect(throws: SecureTimeError.cancelled) { try await task.value }
        #expect(ContinuousClock.now - started < .seconds(30), "the query went on after the cancellation")
    }

    /// The same while the NTS-KE server's TLS handshake hangs.
    @Test func cancellingTheTaskEndsAHangingKeyExchange() async throws {
        let silent = try SilentPort(tcp: true)
        defer { silent.close() }
        let started = ContinuousClock.now
        let task = Task { try await SecureTime.now(from: [.nts("127.0.0.1", keyExchangePort: silent.port)], options: SecureTimeOptions(timeout: .seconds(60))) }
        try await Task.sleep(for: .milliseconds(300))
        task.cancel()
        await #expect(throws: SecureTimeError.cancelled) { try await task.value }
        #expect(ContinuousClock.now - started < .seconds(30), "the key exchange went on after the cancellation")
    }

    /// A reading 10 s old: carried forward by the monotonic clock, its bound grown by 15 ppm of
    /// the 10 s (150 µs), whatever the system clock did meanwhile.
    @Test func aReadingIsCarriedForwardOnTheMonotonicClockAndItsBoundGrows() {
        let made = UnixTime(seconds: 1_800_000_000, nanoseconds: 0)
        let reading = SecureTimeReading(
            offsetFromSystemClock: .zero, errorBound: .milliseconds(1), time: made,
            agreeing: [], falsetickers: [], failures: [], madeAtMonotonic: MonotonicClock.now() - .seconds(10)
        )
        let now = reading.now()
        let elapsed = (now.time - made).seconds
        #expect(elapsed >= 10 && elapsed < 11, "\(elapsed)")
        let bound = (now.latest - now.time).seconds
        #expect(abs(bound - 0.001150) < 0.000002, "\(bound)")
        #expect(now.time - now.earliest == now.latest - now.time)
    }

    @Test func theCorrectnessIntervalAddsHalfTheRoundTripAndWhatTheServerSaysOfItself() {
        let header = NTPHeader(
            leap: .none, mode: .server, stratum: 2, precision: -20,
            rootDelay: NTPShort(rawValue: 1 << 16 / 100 * 2), rootDispersion: NTPShort(rawValue: 1 << 16 / 1000)
        )
        let measurement = NTPMeasurement(
            header: header, t1: NTPTimestamp(rawValue: 0), t2: NTPTimestamp(rawValue: 1 << 32), t3: NTPTimestamp(rawValue: 1 << 32),
            t4: NTPTimestamp(rawValue: 1 << 28)
        )
        let width = ServerMeasurement.halfWidth(header: measurement.header, delay: measurement.delay)
        // 1/16 s round trip: 31.25 ms; root delay about 20 ms: 10 ms; dispersion about 1 ms;
        // 2^-20 s precision; 15 ppm of the round trip.
        #expect(abs(width.seconds - (0.03125 + 0.00999 + 0.000991 + 0.00000095 + 0.0000009)) < 0.0001, "\(width.seconds)")
    }
}

/// A port on loopback that receives and never answers: UDP, or TCP that completes the
/// connection (the kernel's backlog) and then says nothing.
private struct SilentPort {
    let descriptor: Int32
    let port: UInt16

    init(tcp: Bool = false) throws {
        let descriptor = socket(AF_INET, Int32(tcp ? SOCK_STREAM.rawValue : SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) } }
        guard descriptor >= 0, bound == 0, !tcp || listen(descriptor, 8) == 0 else { throw SocketFailure() }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) } }
        self.descriptor = descriptor
        port = UInt16(bigEndian: address.sin_port)
    }

    func close() { _ = Glibc.close(descriptor) }

    struct SocketFailure: Error {}
}
