import Foundation
import PendulumIO
import PendulumSync
import PendulumTime
import Testing

/// The daemon's client engine on an overlay clock started wrong on purpose, steered from a real
/// chronyd on loopback. chronyd's clock is the system clock, so the overlay's offset from the
/// system clock is exactly its error.
@Suite(.serialized) struct SynchronizationEngineTests {
    /// Polls the engine once a second until `limit`; returns when |offset| first fell below 1 ms
    /// and the largest |offset| seen in the `hold` seconds after that.
    func converge(_ engine: SynchronizationEngine, clock: OverlayClock, limit: Double, hold: Double) -> (reachedAfter: Double?, worstAfter: Double) {
        let start = Date()
        var reached: Double?
        var worst = 0.0
        while Date().timeIntervalSince(start) < limit + hold {
            sleep(1)
            let error = abs(clock.offsetFromSystem.seconds)
            let elapsed = Date().timeIntervalSince(start)
            if let reachedAt = reached {
                worst = max(worst, error)
                if elapsed > reachedAt + hold { break }
            } else if error < 0.001 {
                reached = elapsed
            } else if elapsed > limit {
                break
            }
        }
        return (reached, worst)
    }

    @Test(arguments: [false, true])
    func overlayClockConvergesToChrony(nts: Bool) throws {
        let certificate = try TestCertificate()
        defer { certificate.remove() }
        let chrony = try ChronyServer(stratum: 2, certificate: nts ? certificate : nil)
        defer { chrony.stop() }
        let clock = OverlayClock(initialOffset: .milliseconds(250), intrinsicFrequencyError: 30e-6)
        let source = nts
            ? SourceSpecification(host: "127.0.0.1", port: chrony.port, mode: .nts, keyExchangePort: chrony.ntsKEPort ?? 0, caFile: certificate.certificatePath)
            : SourceSpecification(host: "127.0.0.1", port: chrony.port)
        let engine = SynchronizationEngine(clock: clock, sources: [source])
        engine.start()
        defer { engine.stop() }
        let result = converge(engine, clock: clock, limit: 60, hold: 30)
        let reached = try #require(result.reachedAfter, "never within 1 ms; now \(clock.offsetFromSystem)")
        #expect(reached <= 60)
        #expect(result.worstAfter < 0.001, "left the 1 ms band: \(result.worstAfter) s")
        let snapshot = engine.snapshot()
        #expect(snapshot.system.synchronized)
        #expect(snapshot.system.stratum == 3)
        #expect(snapshot.sources.first?.reachable == true)
        #expect(snapshot.sources.first?.selected == true)
        if nts { #expect((snapshot.sources.first?.cookies ?? 0) > 0) }
        print("engine (nts: \(nts)): within 1 ms after \(reached) s, worst \(result.worstAfter * 1e6) µs over the next 30 s; final \(clock.offsetFromSystem)")
    }
}
