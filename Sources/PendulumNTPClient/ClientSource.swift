import PendulumDiscipline
import PendulumNTP
import PendulumNTS
import PendulumTime

/// One source's state machine: its address, its NTS association, the exchange in flight and
/// what status shows of it. It turns events into actions for its own source and, when a poll
/// is over, into a `SourceOutcome` the system part acts on. No I/O.
struct ClientSource: Sendable {
    enum Phase: Sendable {
        case idle
        case resolving
        case exchangingKeys
        case awaitingReply(PendingExchange)
    }

    struct PendingExchange: Sendable {
        var exchange: ClientExchange
        /// T1, once the shell reported the send; answers before that are not believed.
        var sentAt: NTPTimestamp?
        /// The core's step count when the request went out.
        var stepsAtSend: Int
    }

    let id: SourceID
    let specification: SourceSpecification
    /// Index of the pool specification this member came from.
    let poolIndex: Int?
    private(set) var address: ResolvedAddress?
    private var ntpHost: String
    private var ntpPort: UInt16
    private var association: NTSClientAssociation?
    private(set) var phase: Phase = .idle
    /// The last exchange's times, for an interleaved request (RFC 9769) next; nil after a lost
    /// answer, a failure or a clock step, which leave nothing to complete.
    var interleavedPrevious: InterleavedPrevious?
    private(set) var interleavedAnswers = 0
    /// The last answer was in basic mode and its exchange measured: an interleaved answer next
    /// would measure that exchange a second time (with the server's better transmit time),
    /// and the filter must not count one exchange as two samples.
    private var lastExchangeMeasured = false

    // What status shows.
    var reach: UInt8 = 0
    var polls = 0
    var consecutiveMisses = 0
    var lastMeasurement: Measurement?
    var lastError: String?
    var isFalseticker = false
    var falsetickerStreak = 0
    var demobilized = false
    /// Kiss-o'-death back-off level.
    var backoff = 0

    // Certificates judged by the sources' agreement before the first synchronisation
    // (`CertificateAgreement`).
    /// How the next NTS-KE judges the certificate's validity period.
    var certificateTime: CertificateTimeCheck = .againstLocalClock
    /// The certificate was valid, but not at the local clock's time: when it is.
    private(set) var provisionalCertificate: CertificateValidity?
    /// Enough sources with other keys agreed on a time within `provisionalCertificate`.
    var vouched = false
    /// The last sample of a source not yet vouched for, held back from the discipline.
    var heldSample: (measurement: Measurement, receivedAt: NTPTimestamp)?
    /// The clock has been set since the certificate was judged: run NTS-KE again before the
    /// next poll, checking it against the clock.
    var rekeyWithCheckedTime = false

    /// Longest an NTS key exchange or a name resolution may take before the poll counts as failed.
    static let setupTimeout = NTPDuration(seconds: 15)

    init(id: SourceID, specification: SourceSpecification, poolIndex: Int?, address: ResolvedAddress?) {
        self.id = id
        self.specification = specification
        self.poolIndex = poolIndex
        self.address = address
        ntpHost = specification.host
        ntpPort = specification.port
    }

    var cookiesHeld: Int { association?.jar.count ?? 0 }

    /// How long an answer is waited for: a second, or with sub-second polling (minpoll < 0)
    /// the poll interval, but never less than 100 ms.
    var replyTimeout: NTPDuration {
        let minimumLog2 = specification.polling?.limits.lowerBound ?? 0
        guard minimumLog2 < 0 else { return .seconds(1) }
        return NTPDuration(seconds: 0, nanoseconds: Int64(max(100_000_000, 1_000_000_000 >> Int64(min(-minimumLog2, 30)))))
    }

    /// Starts a poll: runs NTS-KE or resolves the name first when needed.
    mutating func beginPoll(steps: Int, random: inout some NTSRandomSource & RandomNumberGenerator) -> (actions: [ClientAction], outcome: SourceOutcome?) {
        guard case .idle = phase else { return ([], nil) }
        if rekeyWithCheckedTime {
            rekeyWithCheckedTime = false
            startAfresh()
        }
        if specification.mode == .nts, association?.needsKeyExchange ?? true {
            phase = .exchangingKeys
            return ([
                .runKeyExchange(
                    id, host: specification.host, port: specification.keyExchangePort, caFile: specification.caFile,
                    certificateTime: certificateTime),
                .setTimer(.deadline(id), after: Self.setupTimeout),
            ], nil)
        }
        guard let address else {
            phase = .resolving
            return ([.resolve(id, host: ntpHost, port: ntpPort), .setTimer(.deadline(id), after: Self.setupTimeout)], nil)
        }
        return sendRequest(to: address, steps: steps, random: &random)
    }

    private mutating func sendRequest(
        to address: ResolvedAddress, steps: Int, random: inout some NTSRandomSource & RandomNumberGenerator
    ) -> (actions: [ClientAction], outcome: SourceOutcome?) {
        // Only a measurement leaves an exchange to complete; every other outcome forgets it.
        let previous = interleavedPrevious
        interleavedPrevious = nil
        let exchange = ClientExchange(nonce: random.next(), previous: previous, interleavedNonce: random.next())
        var request = exchange.requestBytes
        if association != nil {
            do {
                request = try association?.makeRequest(header: exchange.request.header, random: &random) ?? request
            } catch {
                phase = .idle
                return ([], .failed("NTS: out of cookies"))
            }
        }
        phase = .awaitingReply(PendingExchange(exchange: exchange, sentAt: nil, stepsAtSend: steps))
        return ([.send(request, to: id, address: address), .setTimer(.deadline(id), after: replyTimeout)], nil)
    }

    mutating func transmitted(at sent: NTPTimestamp) {
        guard case .awaitingReply(var pending) = phase, pending.sentAt == nil else { return }
        pending.sentAt = sent
        phase = .awaitingReply(pending)
    }

    /// A datagram from the source's socket. nil outcome: not the answer (forged, stale,
    /// malformed): keep waiting.
    mutating func received(_ bytes: [UInt8], at arrival: NTPTimestamp, steps: Int) -> SourceOutcome? {
        guard case .awaitingReply(let pending) = phase, let sent = pending.sentAt else { return nil }
        if association != nil {
            switch association?.handleResponse(bytes) {
            case .authenticated?: break
            case .nak?:
                phase = .idle
                return .ntsNAK
            case .ignored?, nil: return nil
            }
        }
        switch pending.exchange.evaluate(reply: bytes, sent: sent, received: arrival) {
        case .success(let reply):
            phase = .idle
            let header = reply.header
            let straddledStep = steps != pending.stepsAtSend
            // An exchange that straddled a step leaves nothing an interleaved answer could complete.
            interleavedPrevious = straddledStep ? nil : reply.following
            if reply.isInterleaved { interleavedAnswers += 1 }
            let repeated = reply.isInterleaved && lastExchangeMeasured
            lastExchangeMeasured = !reply.isInterleaved
            let measurement = Measurement(
                t1: reply.t1, t2: reply.t2, t3: reply.t3, t4: reply.t4,
                rootDelay: header.rootDelay, rootDispersion: header.rootDispersion, stratum: header.stratum,
                leap: header.leap,
                sourceReferenceID: header.referenceID.rawValue
            )
            return .measurement(measurement, receivedAt: arrival, unusable: straddledStep || repeated)
        case .failure(.kissOfDeath(let code)):
            phase = .idle
            return .kissOfDeath(code)
        case .failure(let rejection) where rejection.isIgnorable:
            return nil
        case .failure(let rejection):
            phase = .idle
            return .failed(rejection.description)
        }
    }

    /// The socket or the send failed (ICMP port unreachable, no route): the address may be
    /// stale, so it is looked up again next time.
    mutating func exchangeFailed(_ reason: String) -> SourceOutcome? {
        guard case .awaitingReply = phase else { return nil }
        phase = .idle
        address = nil
        return .failed(reason)
    }

    /// The deadline timer fired: whatever was outstanding failed.
    mutating func deadlinePassed() -> SourceOutcome? {
        let outcome: SourceOutcome
        switch phase {
        case .idle: return nil
        case .awaitingReply: outcome = .noReply
        case .resolving: outcome = .failed("cannot resolve \(ntpHost): no answer in \(Self.setupTimeout.seconds) s")
        case .exchangingKeys: outcome = .failed("NTS-KE with \(specification.displayAddress) did not complete in \(Self.setupTimeout.seconds) s")
        }
        phase = .idle
        return outcome
    }

    mutating func resolved(
        _ addresses: [ResolvedAddress], steps: Int, random: inout some NTSRandomSource & RandomNumberGenerator
    ) -> (actions: [ClientAction], outcome: SourceOutcome?) {
        guard case .resolving = phase else { return ([], nil) }
        guard let first = addresses.first else {
            phase = .idle
            return ([], .failed("no address for \(ntpHost)"))
        }
        address = first
        return sendRequest(to: first, steps: steps, random: &random)
    }

    mutating func resolutionFailed(_ reason: String) -> SourceOutcome? {
        guard case .resolving = phase else { return nil }
        phase = .idle
        return .failed(reason)
    }

    /// NTS-KE succeeded: NTP goes to the host and port the server named.
    mutating func keyExchangeCompleted(
        _ newAssociation: NTSClientAssociation, ntpHost host: String, ntpPort port: UInt16?, certificateValidity: CertificateValidity?,
        steps: Int, random: inout some NTSRandomSource & RandomNumberGenerator
    ) -> (actions: [ClientAction], outcome: SourceOutcome?) {
        guard case .exchangingKeys = phase else { return ([], nil) }
        association = newAssociation
        // A deferred check can only be asked for before the clock is trusted; a validity
        // reported for a checked run would mean a shell bug, and is kept so it still gates.
        provisionalCertificate = certificateValidity
        vouched = false
        heldSample = nil
        ntpHost = host
        ntpPort = port ?? specification.port
        address = nil
        interleavedPrevious = nil
        phase = .idle
        let note = ClientAction.log(
            .info, "source \(specification.displayAddress): NTS-KE done: NTP at \(ntpHost):\(ntpPort), AEAD \(newAssociation.aead.rawValue), \(newAssociation.jar.count) cookies")
        let next = beginPoll(steps: steps, random: &random)
        return ([note] + next.actions, next.outcome)
    }

    mutating func keyExchangeFailed(_ reason: String) -> SourceOutcome? {
        guard case .exchangingKeys = phase else { return nil }
        phase = .idle
        return .failed(reason)
    }

    /// Forgets the address and, for NTS, the association: the next poll resolves the name and
    /// runs NTS-KE again. For a source that stopped answering.
    mutating func startAfresh() {
        address = nil
        interleavedPrevious = nil
        if specification.mode == .nts {
            association = nil
            provisionalCertificate = nil
            vouched = false
            heldSample = nil
            ntpHost = specification.host
            ntpPort = specification.port
        }
    }
}
