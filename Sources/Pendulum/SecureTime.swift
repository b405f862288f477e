import NIOCore
// An app works with the times and durations this library returns without a second import.
@_exported import PendulumTime
import PendulumIO
import PendulumNTS
import PendulumNTSKE

/// Authenticated time for an app, in one call:
///
/// ```swift
/// let reading = try await SecureTime.now(from: [.nts("time.cloudflare.com"), .nts("nts.netnod.se"), .nts("ptbtime1.ptb.de")])
/// print(reading.time, "±", reading.errorBound)
/// for server in reading.falsetickers { print("outvoted:", server.server.host) }
/// ```
///
/// Every server is asked at once (NTS-KE over TLS 1.3, then NTS-protected NTP); answers whose
/// correctness intervals do not overlap the majority's are outvoted and named. Cancelling the
/// calling task ends every query within about 100 ms.
public enum SecureTime {
    public static func now(from servers: [TimeServer], options: SecureTimeOptions = SecureTimeOptions()) async throws(SecureTimeError) -> SecureTimeReading {
        guard !servers.isEmpty else { throw .noServers }
        if let problem = options.problem { throw .invalidOptions(problem) }
        let results = await withTaskGroup(of: (Int, Result<ServerMeasurement, TimeServerFailure>).self) { group in
            for (index, server) in servers.enumerated() {
                group.addTask {
                    do throws(TimeServerFailure) {
                        return (index, .success(try await measure(server, options: options)))
                    } catch {
                        return (index, .failure(error))
                    }
                }
            }
            var results = [Result<ServerMeasurement, TimeServerFailure>?](repeating: nil, count: servers.count)
            for await (index, result) in group { results[index] = result }
            return results
        }
        if Task.isCancelled { throw .cancelled }
        var answered: [ServerMeasurement] = []
        var failures: [ServerFailureReport] = []
        for (server, result) in zip(servers, results) {
            switch result {
            case .success(let measurement)?: answered.append(measurement)
            case .failure(let failure)?: failures.append(ServerFailureReport(server: server, failure: failure))
            case nil: failures.append(ServerFailureReport(server: server, failure: .cancelled))
            }
        }
        guard !answered.isEmpty else { throw .noAnswer(failures) }
        let intervals = answered.map { AgreementSelection.Interval(offset: $0.offset, halfWidth: $0.correctnessHalfWidth) }
        guard let selection = AgreementSelection.select(intervals) else { throw .noAnswer(failures) }
        // More than half of those that answered, so a lone liar can never win a tie.
        let needed = max(options.minimumAgreeing, answered.count / 2 + 1)
        guard selection.agreeing.count >= needed else {
            throw .noAgreement(answered: answered, largestGroup: selection.agreeing.count, needed: needed, failures: failures)
        }
        let agreeing = selection.agreeing.map { answered[$0] }
        let falsetickers = answered.indices.filter { !selection.agreeing.contains($0) }.map { answered[$0] }
        // The agreeing offsets' mean, kept inside the interval they all allow; the bound is
        // the distance to that interval's farther end.
        let sum = agreeing.reduce(Int64(0)) { $0 &+ $1.offset.rawValue / Int64(agreeing.count) }
        let offset = min(max(NTPDuration(rawValue: sum), selection.low), selection.high)
        // The system clock's reading is carried forward on the monotonic clock: read the
        // monotonic clock on both sides of it and pair it with the middle, the bound widened
        // by half the gap. A thread preempted between two reads (59 µs once, under load) put
        // the reading that much ahead of its bound.
        let monotonicBefore = MonotonicClock.now()
        let system = WallClock.now()
        let monotonicAfter = MonotonicClock.now()
        let halfGap = (monotonicAfter - monotonicBefore) / 2
        let madeAt = monotonicBefore + halfGap
        let (gapSeconds, gapAttoseconds) = halfGap.components
        let pairing = NTPDuration(seconds: gapSeconds, nanoseconds: gapAttoseconds / 1_000_000_000 + 1)
        let bound = max(offset - selection.low, selection.high - offset) + pairing
        return SecureTimeReading(
            offsetFromSystemClock: offset, errorBound: bound, time: system + offset,
            agreeing: agreeing, falsetickers: falsetickers, failures: failures, madeAtMonotonic: madeAt
        )
    }

    /// One server, measured: key exchange if it uses NTS, then `samplesPerServer` requests;
    /// the least-delayed answer is the measurement. What `pendulum query` runs.
    public static func measure(_ server: TimeServer, options: SecureTimeOptions = SecureTimeOptions()) async throws(TimeServerFailure) -> ServerMeasurement {
        let started = MonotonicClock.now()
        var host = server.host
        var port = server.port ?? 123
        var association: NTSClientAssociation?
        // The query's own limit: all of it, or what the key exchange left of it.
        var timeout = options.timeout
        if case .nts(let keyExchangePort, let caFile) = server.security {
            let session: NTSKESession
            do {
                session = try await NTSKEClient.establish(host: server.host, port: Int(keyExchangePort), caFile: caFile, timeout: TimeAmount(options.timeout))
            } catch {
                throw Task.isCancelled ? .cancelled : .keyExchange(error.description)
            }
            if Task.isCancelled { throw .cancelled }
            host = session.ntpHost
            port = server.port ?? session.ntpPort ?? 123
            do {
                association = try session.makeAssociation()
            } catch {
                throw .keyExchange("NTS: \(error)")
            }
            timeout = max(options.timeout - (MonotonicClock.now() - started), .milliseconds(100))
        }
        let query = NTPQuery(
            host: host, port: port, samples: options.samplesPerServer,
            timeout: timeout, interval: options.interval
        )
        let nts = association
        return try await BlockingWork.run { stop throws(TimeServerFailure) in
            let outcome = try query.run(nts: nts, stop: stop)
            guard let best = outcome.best else { throw .noReply(address: "\(outcome.address)", timeout: query.timeout) }
            return ServerMeasurement(server: server, outcome: outcome, best: best)
        }
    }
}

extension SecureTimeOptions {
    /// What is wrong with these options, if anything.
    var problem: String? {
        if !(1...64).contains(samplesPerServer) { return "samplesPerServer must be between 1 and 64" }
        if timeout <= .zero || timeout > .seconds(3600) { return "timeout must be between 0 and 3600 seconds" }
        if interval < .zero || interval > .seconds(60) { return "interval must be between 0 and 60 seconds" }
        if minimumAgreeing < 1 { return "minimumAgreeing must be at least 1" }
        return nil
    }
}
