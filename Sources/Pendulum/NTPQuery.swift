import Glibc
import PendulumIO
import PendulumNTP
import PendulumNTS
import PendulumTime

/// The I/O shell around `ClientExchange` for one-shot measurements: resolves, sends a few
/// requests, collects the replies that answer them and keeps the rest out.
struct NTPQuery {
    var host: String
    var port: UInt16
    var samples: Int
    /// The whole query's time limit.
    var timeout: Duration
    /// Pause between requests, so servers that rate-limit bursts do not answer RATE.
    var interval: Duration

    struct Outcome {
        var address: SocketAddress
        var measurements: [Sample]
        var ignoredReplies: Int
        /// With NTS: the association after the query, holding the cookies it was given back.
        var nts: NTSClientAssociation?

        /// The minimum-delay sample: the one least disturbed by queueing (RFC 5905 clock filter).
        var best: Sample? { measurements.min { $0.measurement.delay < $1.measurement.delay } }

        /// Largest minus smallest offset over all samples.
        var offsetSpread: NTPDuration {
            let offsets = measurements.map(\.measurement.offset)
            guard let low = offsets.min(), let high = offsets.max() else { return .zero }
            return high - low
        }
    }

    struct Sample {
        var measurement: NTPMeasurement
        var transmitSource: PacketTimestamp.Source
        var receiveSource: PacketTimestamp.Source
    }

    enum Failure: Error, CustomStringConvertible {
        case resolution(NameResolutionError)
        case system(SystemCallError)
        case refused(SocketAddress)
        case noReply(SocketAddress, timeout: Duration)
        case rejected(SocketAddress, ReplyRejection)
        case ntsNAK(SocketAddress)
        case ntsOutOfCookies(SocketAddress)

        var description: String {
            switch self {
            case .resolution(let error): "\(error)"
            case .system(let error): "\(error)"
            case .refused(let address): "no NTP server at \(address) (connection refused)"
            case .noReply(let address, let timeout): "no reply from \(address) within \(timeout.secondsText) s"
            case .rejected(let address, let rejection): "\(address): \(rejection)"
            case .ntsNAK(let address): "\(address): server refused our NTS cookie (NTS NAK)"
            case .ntsOutOfCookies(let address): "\(address): out of NTS cookies (the server returned none)"
            }
        }
    }

    /// Runs the query; with `nts`, every request is NTS-protected and only authenticated
    /// replies count.
    func run(nts: NTSClientAssociation? = nil) throws(Failure) -> Outcome {
        let addresses: [SocketAddress]
        do {
            addresses = try NameResolver.resolve(host, port: port)
        } catch {
            throw .resolution(error)
        }
        let deadline = MonotonicClock.now() + timeout
        var lastFailure: Failure = .noReply(addresses[0], timeout: timeout)
        // Try each address in the resolver's order until one answers; "localhost" often lists ::1
        // first while a server may listen on 127.0.0.1 only.
        for address in addresses {
            do {
                return try query(address, nts: nts, until: deadline)
            } catch .refused(let refused) {
                lastFailure = .refused(refused)
            } catch {
                throw error
            }
        }
        throw lastFailure
    }

    private func query(_ address: SocketAddress, nts: NTSClientAssociation?, until deadline: Duration) throws(Failure) -> Outcome {
        let socket: TimestampedUDPSocket
        do {
            socket = try TimestampedUDPSocket(family: address.family)
            try socket.connect(to: address)
        } catch {
            throw .system(error)
        }
        var outcome = Outcome(address: address, measurements: [], ignoredReplies: 0, nts: nts)
        var generator = SystemRandomNumberGenerator()
        var random = SystemRandomSource()
        for index in 0..<samples {
            if index > 0 {
                let pause = min(interval, deadline - MonotonicClock.now())
                if pause > .zero { sleep(for: pause) }
            }
            guard MonotonicClock.now() < deadline else { break }
            let exchange = ClientExchange(using: &generator)
            var requestBytes = exchange.requestBytes
            if outcome.nts != nil {
                do {
                    requestBytes = try outcome.nts?.makeRequest(header: exchange.request.header, random: &random) ?? requestBytes
                } catch {
                    throw .ntsOutOfCookies(address)
                }
            }
            let reply: Reply
            do {
                let sent = try socket.send(requestBytes)
                reply = try awaitReply(to: exchange, sent: sent, on: socket, until: deadline, outcome: &outcome)
            } catch {
                if error.isConnectionRefused { throw .refused(address) }
                throw .system(error)
            }
            switch reply {
            case .answered(let sample): outcome.measurements.append(sample)
            case .rejected(let rejection): throw .rejected(address, rejection)
            case .ntsNAK: throw .ntsNAK(address)
            case .timedOut: continue
            }
        }
        guard !outcome.measurements.isEmpty else { throw .noReply(address, timeout: timeout) }
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
    }

    private func awaitReply(
        to exchange: ClientExchange, sent: PacketTimestamp, on socket: TimestampedUDPSocket,
        until deadline: Duration, outcome: inout Outcome
    ) throws(SystemCallError) -> Reply {
        let giveUp = min(deadline, MonotonicClock.now() + .seconds(1))
        while true {
            let remaining = giveUp - MonotonicClock.now()
            guard remaining > .zero, let datagram = try socket.receive(timeout: remaining) else { return .timedOut }
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

func sleep(for duration: Duration) {
    var request = duration.timespec
    var remaining = Glibc.timespec()
    while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
}

extension Duration {
    var timespec: Glibc.timespec {
        let (seconds, attoseconds) = components
        return Glibc.timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
    }

    var secondsText: String {
        let (seconds, attoseconds) = components
        let millis = attoseconds / 1_000_000_000_000_000
        return millis == 0 ? "\(seconds)" : "\(seconds).\(String(format3: millis))"
    }
}

extension String {
    init(format3 value: Int64) {
        let text = String(value)
        self = String(repeating: "0", count: Swift.max(0, 3 - text.count)) + text
    }
}
