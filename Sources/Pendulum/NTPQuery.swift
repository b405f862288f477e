import Glibc
import PendulumIO
import PendulumNTP
import PendulumNTS
import PendulumTime

/// The I/O shell around `ClientExchange` for one-shot measurements: resolves, sends a few
/// requests, collects the replies that answer them and keeps the rest out. Blocking: callers
/// in async code run it on a thread of its own (`BlockingWork`).
package struct NTPQuery: Sendable {
    package var host: String
    package var port: UInt16
    package var samples: Int
    /// The whole query's time limit.
    package var timeout: Duration
    /// Pause between requests, so servers that rate-limit bursts do not answer RATE.
    package var interval: Duration

    package init(host: String, port: UInt16, samples: Int, timeout: Duration, interval: Duration) {
        self.host = host
        self.port = port
        self.samples = samples
        self.timeout = timeout
        self.interval = interval
    }

    package struct Outcome {
        package var address: SocketAddress
        package var measurements: [Sample]
        package var ignoredReplies: Int
        /// With NTS: the association after the query, holding the cookies it was given back.
        package var nts: NTSClientAssociation?

        /// The minimum-delay sample: the one least disturbed by queueing (RFC 5905 clock filter).
        package var best: Sample? { measurements.min { $0.measurement.delay < $1.measurement.delay } }

        /// Largest minus smallest offset over all samples.
        package var offsetSpread: NTPDuration {
            let offsets = measurements.map(\.measurement.offset)
            guard let low = offsets.min(), let high = offsets.max() else { return .zero }
            return high - low
        }
    }

    package struct Sample {
        package var measurement: NTPMeasurement
        package var transmitSource: PacketTimestamp.Source
        package var receiveSource: PacketTimestamp.Source
    }

    /// Runs the query; with `nts`, every request is NTS-protected and only authenticated
    /// replies count. `stop` is asked between requests and while waiting (at least every
    /// 100 ms): once it says yes the query ends with `.cancelled`.
    package func run(nts: NTSClientAssociation? = nil, stop: @Sendable () -> Bool = { false }) throws(TimeServerFailure) -> Outcome {
        let addresses: [SocketAddress]
        do {
            addresses = try NameResolver.resolve(host, port: port)
        } catch {
            throw .resolution("\(error)")
        }
        let deadline = MonotonicClock.now() + timeout
        var lastFailure: TimeServerFailure = .noReply(address: "\(addresses[0])", timeout: timeout)
        // Try each address in the resolver's order until one answers; "localhost" often lists ::1
        // first while a server may listen on 127.0.0.1 only.
        for address in addresses {
            do {
                return try query(address, nts: nts, until: deadline, stop: stop)
            } catch .refused(let refused) {
                lastFailure = .refused(address: refused)
            } catch {
                throw error
            }
        }
        throw lastFailure
    }

    private func query(
        _ address: SocketAddress, nts: NTSClientAssociation?, until deadline: Duration, stop: @Sendable () -> Bool
    ) throws(TimeServerFailure) -> Outcome {
        let socket: TimestampedUDPSocket
        do {
            socket = try TimestampedUDPSocket(family: address.family)
            try socket.connect(to: address)
        } catch {
            throw .system("\(error)")
        }
        var outcome = Outcome(address: address, measurements: [], ignoredReplies: 0, nts: nts)
        var generator = SystemRandomNumberGenerator()
        var random = SystemRandomSource()
        for index in 0..<samples {
            if index > 0 {
                // Paused in slices, so a cancelled query ends within 100 ms.
                let resume = min(MonotonicClock.now() + interval, deadline)
                while !stop() {
                    let pause = min(resume - MonotonicClock.now(), .milliseconds(100))
                    guard pause > .zero else { break }
                    sleep(for: pause)
                }
            }
            if stop() { throw .cancelled }
            guard MonotonicClock.now() < deadline else { break }
            let exchange = ClientExchange(using: &generator)
            var requestBytes = exchange.requestBytes
            if outcome.nts != nil {
                do {
                    requestBytes = try outcome.nts?.makeRequest(header: exchange.request.header, random: &random) ?? requestBytes
                } catch {
                    throw .ntsOutOfCookies(address: "\(address)")
                }
            }
            let reply: Reply
            do {
                let sent = try socket.send(requestBytes)
                reply = try awaitReply(to: exchange, sent: sent, on: socket, until: deadline, outcome: &outcome, stop: stop)
            } catch {
                if error.isConnectionRefused { throw .refused(address: "\(address)") }
                throw .system("\(error)")
            }
            switch reply {
            case .answered(let sample): outcome.measurements.append(sample)
            case .rejected(let rejection): throw .rejected(address: "\(address)", reason: "\(rejection)")
            case .ntsNAK: throw .ntsNAK(address: "\(address)")
            case .timedOut: continue
            case .stopped: throw .cancelled
            }
        }
        guard !outcome.measurements.isEmpty else { throw .noReply(address: "\(address)", timeout: timeout) }
        return outcome
    }

    /// Waits for the reply that answers `exchange`, ignoring anything else. Each request gets
    /// at most a second (or what is left) so one lost packet does not eat the whole budget.
    private enum Reply {
        case answered(Sample)
        /// The server answered our nonce with a refusal (KoD) or an unusable time.
        case rejected(ReplyRejection)
        case ntsNAK
        case timedOut
        case stopped
    }

    private func awaitReply(
        to exchange: ClientExchange, sent: PacketTimestamp, on socket: TimestampedUDPSocket,
        until deadline: Duration, outcome: inout Outcome, stop: @Sendable () -> Bool
    ) throws(SystemCallError) -> Reply {
        let giveUp = min(deadline, MonotonicClock.now() + .seconds(1))
        while true {
            if stop() { return .stopped }
            let remaining = giveUp - MonotonicClock.now()
            guard remaining > .zero else { return .timedOut }
            guard let datagram = try socket.receive(timeout: min(remaining, .milliseconds(100))) else { continue }
            if outcome.nts != nil {
                // With NTS nothing in a reply is believed before it authenticates.
                switch outcome.nts?.handleResponse(datagram.bytes) {
                case .authenticated?: break
                case .nak?: return .ntsNAK
                case .ignored?, nil:
                    outcome.ignoredReplies += 1
                    continue
                }
            }
            switch exchange.evaluate(reply: datagram.bytes, sent: NTPTimestamp(sent.time), received: NTPTimestamp(datagram.timestamp.time)) {
            case .success(let measurement):
                return .answered(Sample(measurement: measurement, transmitSource: sent.source, receiveSource: datagram.timestamp.source))
            case .failure(let rejection) where rejection.isIgnorable || datagram.wasTruncated:
                outcome.ignoredReplies += 1
            case .failure(let rejection):
                return .rejected(rejection)
            }
        }
    }
}

package func sleep(for duration: Duration) {
    var request = duration.timespec
    var remaining = Glibc.timespec()
    while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
}

extension Duration {
    package var timespec: Glibc.timespec {
        let (seconds, attoseconds) = components
        return Glibc.timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
    }

    /// "5" or "2.500": how error messages give a time limit.
    package var secondsText: String {
        let (seconds, attoseconds) = components
        let millis = attoseconds / 1_000_000_000_000_000
        guard millis != 0 else { return "\(seconds)" }
        let text = String(millis)
        return "\(seconds)." + String(repeating: "0", count: Swift.max(0, 3 - text.count)) + text
    }
}
