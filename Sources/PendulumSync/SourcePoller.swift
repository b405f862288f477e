import Crypto
import Foundation
import Logging
import PendulumDiscipline
import PendulumIO
import PendulumNTP
import PendulumNTS
import PendulumNTSKE
import PendulumTime

/// What one poll of a source produced.
enum PollResult {
    /// `receivedAt`: when the answer arrived, on the steered clock; later than the
    /// measurement's own time when the answer was interleaved.
    case measurement(DisciplineMeasurement, referenceID: UInt32, receivedAt: NTPTimestamp)
    case noReply
    case kissOfDeath(String)
    case ntsNAK
    case failed(String)
}

/// Polls one source: resolves it, keeps its NTS association, and turns one request/reply into
/// a `Measurement` on the steered clock's time scale. Blocking; runs on the source's own thread.
final class SourcePoller {
    let specification: SourceSpecification
    private let clock: any SteerableClock
    private var address: SocketAddress?
    private var association: NTSClientAssociation?
    private var ntpHost: String
    private var ntpPort: UInt16
    private var generator = SystemRandomNumberGenerator()
    private var random = SystemRandomSource()
    private(set) var cookiesHeld = 0
    /// The last exchange's times, for an interleaved request (RFC 9769) next; nil after a
    /// lost answer, a failure or a clock step, which leave nothing to complete.
    private var interleavedPrevious: InterleavedPrevious?
    /// How many answers were interleaved, for the debug log.
    private(set) var interleavedAnswers = 0

    private let logger: Logger

    init(specification: SourceSpecification, clock: any SteerableClock, logger: Logger = Logger(label: "pendulum.sync")) {
        self.specification = specification
        self.clock = clock
        self.logger = logger
        ntpHost = specification.host
        ntpPort = specification.port
    }

    var resolvedAddress: SocketAddress? { address }

    /// The clock was stepped: the last exchange's times no longer fit it.
    func forgetPreviousExchange() { interleavedPrevious = nil }

    /// Forgets the resolved address and, for NTS, the association: the next poll resolves the
    /// name again and runs NTS-KE again. For a source that stopped answering.
    func startAfresh() {
        address = nil
        interleavedPrevious = nil
        if specification.mode == .nts {
            association = nil
            ntpHost = specification.host
            ntpPort = specification.port
        }
    }

    func poll(timeout: Duration) -> PollResult {
        // Only a measurement leaves an exchange to complete; every other outcome forgets it.
        let previous = interleavedPrevious
        interleavedPrevious = nil
        return exchange(timeout: timeout, previous: previous)
    }

    private func exchange(timeout: Duration, previous: InterleavedPrevious?) -> PollResult {
        if specification.mode == .nts, association?.needsKeyExchange ?? true {
            if let failure = runKeyExchange(timeout: timeout) { return .failed(failure) }
        }
        if address == nil {
            do {
                address = try NameResolver.resolve(ntpHost, port: ntpPort).first
            } catch {
                return .failed(error.description)
            }
        }
        guard let address else { return .failed("no address for \(ntpHost)") }
        // A fresh socket per request gives a fresh random source port: off-path attackers
        // must guess it as well as the nonce.
        let socket: TimestampedUDPSocket
        let exchange = ClientExchange(nonce: generator.next(), previous: previous, interleavedNonce: generator.next())
        var request = exchange.requestBytes
        do {
            socket = try TimestampedUDPSocket(family: address.family)
            try socket.connect(to: address)
            if association != nil {
                request = try association?.makeRequest(header: exchange.request.header, random: &random) ?? request
            }
        } catch let error as SystemCallError {
            return .failed(error.description)
        } catch {
            return .failed("NTS: out of cookies")
        }
        let sent: PacketTimestamp
        do {
            sent = try socket.send(request)
        } catch {
            self.address = nil  // re-resolve next time
            return .failed(error.description)
        }
        defer { cookiesHeld = association?.jar.count ?? 0 }
        let deadline = MonotonicClock.now() + timeout
        while true {
            let remaining = deadline - MonotonicClock.now()
            guard remaining > .zero else { return .noReply }
            let datagram: ReceivedDatagram
            do {
                guard let received = try socket.receive(timeout: remaining) else { return .noReply }
                datagram = received
            } catch {
                return .failed(error.description)
            }
            if association != nil {
                switch association?.handleResponse(datagram.bytes) {
                case .authenticated?: break
                case .nak?: return .ntsNAK
                case .ignored?, nil: continue
                }
            }
            // Kernel timestamps are on the system clock; the discipline needs the steered
            // clock's readings.
            let t1 = NTPTimestamp(clock.time(atSystemTime: sent.time))
            let t4 = NTPTimestamp(clock.time(atSystemTime: datagram.timestamp.time))
            switch exchange.evaluate(reply: datagram.bytes, sent: t1, received: t4) {
            case .success(let reply):
                let header = reply.header
                interleavedPrevious = reply.following
                if reply.isInterleaved { interleavedAnswers += 1 }
                return .measurement(
                    DisciplineMeasurement(
                        t1: reply.t1, t2: reply.t2, t3: reply.t3, t4: reply.t4,
                        rootDelay: header.rootDelay, rootDispersion: header.rootDispersion, stratum: header.stratum,
                        leap: LeapStatus(rawValue: header.leap.rawValue) ?? .unsynchronized,
                        sourceReferenceID: header.referenceID.rawValue
                    ),
                    referenceID: Self.referenceID(for: address), receivedAt: t4
                )
            case .failure(.kissOfDeath(let code)):
                return .kissOfDeath(code)
            case .failure(let rejection) where rejection.isIgnorable:
                continue
            case .failure(let rejection):
                return .failed(rejection.description)
            }
        }
    }

    /// Runs NTS-KE; nil on success, else why it failed. Bridges the async TLS client onto this
    /// source's own thread.
    private func runKeyExchange(timeout: Duration) -> String? {
        let box = KeyExchangeBox()
        let specification = specification
        let semaphore = DispatchSemaphore(value: 0)
        Task.detached {
            do {
                let session = try await NTSKEClient.establish(
                    host: specification.host, port: Int(specification.keyExchangePort), caFile: specification.caFile
                )
                box.set(.success(session))
            } catch let failure as NTSKEClientFailure {
                box.set(.failure(failure))
            } catch {
                box.set(.failure(.connection(.tls(reason: "\(error)"))))
            }
            semaphore.signal()
        }
        semaphore.wait()
        switch box.get() {
        case .success(let session)?:
            do {
                association = try session.makeAssociation()
            } catch {
                return "NTS: \(error)"
            }
            ntpHost = session.ntpHost
            ntpPort = session.ntpPort ?? specification.port
            address = nil
            cookiesHeld = association?.jar.count ?? 0
            logger.info("source \(specification.displayAddress): NTS-KE done: NTP at \(ntpHost):\(ntpPort), AEAD \(session.result.aead.rawValue), \(cookiesHeld) cookies")
            return nil
        case .failure(let error)?:
            return error.description
        case nil:
            return "NTS-KE did not complete"
        }
    }

    /// The reference id this daemon announces when serving time from this source: the IPv4
    /// address, or the first four bytes of the MD5 of an IPv6 address (RFC 5905 §7.3).
    static func referenceID(for address: SocketAddress) -> UInt32 {
        let bytes = address.family == .ipv4 ? address.addressBytes : Array(Insecure.MD5.hash(data: address.addressBytes))
        return bytes.prefix(4).reduce(0) { $0 << 8 | UInt32($1) }
    }
}

private final class KeyExchangeBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Result<NTSKESession, NTSKEClientFailure>?
    func set(_ result: Result<NTSKESession, NTSKEClientFailure>) { lock.lock(); value = result; lock.unlock() }
    func get() -> Result<NTSKESession, NTSKEClientFailure>? { lock.lock(); defer { lock.unlock() }; return value }
}
