#if canImport(Glibc)
import Glibc
#endif
import CPendulumShim
import NIOConcurrencyHelpers
import NIOCore
import PendulumNTPServer

/// The listener's shared book of connections: `NTSKEAdmission` decides, this holds the
/// channels it decides about, closes the ones it sheds or expires, keeps the counters and turns
/// floods and accept failures into one event at the start and one at the end.
final class NTSKEConnectionRegistry: Sendable {
    private struct Book {
        var admission: NTSKEAdmission
        var channels: [NTSKEAdmission.ConnectionID: Channel] = [:]
        var nextID: NTSKEAdmission.ConnectionID = 1
        var counters = NTSKEServerCounters()
        /// When the current overload last shed or refused; nil when not overloaded.
        var overloadLastSeen: Int64?
        var overloadStart = NTSKEServerCounters()
        var acceptFailuresInEpisode = 0
        /// When accept last failed; nil when accepting works.
        var acceptFailureLastSeen: Int64?
        /// Most connections held since memory was last handed back.
        var peak = 0
    }

    /// Ten seconds without shedding or refusing ends an overload, and without a failed accept
    /// an accept-failure episode: an operator gets a line as each starts and one as it ends.
    static let overloadQuietNanoseconds: Int64 = 10_000_000_000
    /// A flood that reached this many connections leaves freed memory in the allocator's
    /// arenas; once the server is nearly empty again it is returned to the system.
    static let trimAfterPeak = 64
    static let trimWhenHolding = 4
    /// Connections shed per failed accept: each gives back a descriptor.
    static let shedOnAcceptFailure = 8

    private let book: NIOLockedValueBox<Book>
    private let onEvent: @Sendable (NTSKEServerEvent) -> Void

    init(limits: NTSKEAdmission.Limits, onEvent: @escaping @Sendable (NTSKEServerEvent) -> Void) {
        book = NIOLockedValueBox(Book(admission: NTSKEAdmission(limits: limits)))
        self.onEvent = onEvent
    }

    var counters: NTSKEServerCounters { book.withLockedValue { $0.counters } }
    var holding: Int { book.withLockedValue { $0.admission.count } }

    static var now: Int64 { Int64(clamping: NIODeadline.now().uptimeNanoseconds) }

    static func clientAddress(_ address: SocketAddress?) -> ClientAddress? {
        switch address {
        case .v4(let v4): withUnsafeBytes(of: v4.address.sin_addr) { ClientAddress(bytes: Array($0)) }
        case .v6(let v6): withUnsafeBytes(of: v6.address.sin6_addr) { ClientAddress(bytes: Array($0)) }
        default: nil
        }
    }

    /// A new connection: its ID when admitted (its close is then tracked), nil when the caller
    /// must close it.
    func admit(_ channel: Channel) -> NTSKEAdmission.ConnectionID? {
        let address = Self.clientAddress(channel.remoteAddress)
        let now = Self.now
        var events: [NTSKEServerEvent] = []
        let (admitted, shed) = book.withLockedValue { book -> (NTSKEAdmission.ConnectionID?, [Channel]) in
            book.counters.accepted += 1
            guard let address else {
                book.counters.refusedOverLimit += 1
                return (nil, [])
            }
            let id = book.nextID
            book.nextID += 1
            switch book.admission.admit(id, from: address, now: now) {
            case .refused(let refusal):
                book.counters.refusedOverLimit += 1
                Self.noteOverload(&book, now: now, cause: refusal.rawValue, events: &events)
                return (nil, [])
            case .admitted(let shedding):
                book.channels[id] = channel
                book.peak = max(book.peak, book.admission.count)
                guard !shedding.isEmpty else { return (id, []) }
                book.counters.shed += shedding.count
                Self.noteOverload(&book, now: now, cause: "full: the longest-stalled connection shed", events: &events)
                return (id, shedding.compactMap { book.channels.removeValue(forKey: $0) })
            }
        }
        for channel in shed { channel.close(promise: nil) }
        for event in events { onEvent(event) }
        if let admitted {
            channel.closeFuture.whenComplete { [self] _ in closed(admitted) }
        }
        return admitted
    }

    private static func noteOverload(_ book: inout Book, now: Int64, cause: String, events: inout [NTSKEServerEvent]) {
        if book.overloadLastSeen == nil {
            book.overloadStart = book.counters
            events.append(.overloaded(holding: book.admission.count, cause: cause))
        }
        book.overloadLastSeen = now
    }

    func entered(_ phase: NTSKEAdmission.Phase, connection: NTSKEAdmission.ConnectionID) {
        let now = Self.now
        book.withLockedValue { $0.admission.entered(phase, connection: connection, now: now) }
    }

    func count(_ change: (inout NTSKEServerCounters) -> Void) {
        book.withLockedValue { change(&$0.counters) }
    }

    private func closed(_ connection: NTSKEAdmission.ConnectionID) {
        let now = Self.now
        book.withLockedValue { book in
            book.admission.closed(connection, now: now)
            book.channels[connection] = nil
        }
    }

    /// accept() failed: shed a few stalled connections for their descriptors; the caller
    /// pauses accepting.
    func acceptFailed(_ error: IOError) {
        let now = Self.now
        var events: [NTSKEServerEvent] = []
        let shed = book.withLockedValue { book -> [Channel] in
            book.counters.acceptFailures += 1
            book.acceptFailuresInEpisode += 1
            book.acceptFailureLastSeen = now
            if book.acceptFailuresInEpisode == 1 {
                events.append(.acceptFailing(reason: String(cString: strerror(error.errnoCode)), holding: book.admission.count))
            }
            let victims = book.admission.shedLongestStalled(limit: Self.shedOnAcceptFailure, now: now)
            book.counters.shed += victims.count
            return victims.compactMap { book.channels.removeValue(forKey: $0) }
        }
        for channel in shed { channel.close(promise: nil) }
        for event in events { onEvent(event) }
    }

    /// Runs every 100 ms: closes what overstayed, ends overloads, hands memory back.
    func sweep() {
        let now = Self.now
        var events: [NTSKEServerEvent] = []
        var trim = false
        let expired = book.withLockedValue { book -> [Channel] in
            let expiries = book.admission.expire(now: now)
            book.counters.timedOut += expiries.count
            if let last = book.overloadLastSeen, now - last >= Self.overloadQuietNanoseconds {
                events.append(.overloadEnded(
                    shed: book.counters.shed - book.overloadStart.shed,
                    refused: book.counters.refusedOverLimit - book.overloadStart.refusedOverLimit,
                    timedOut: book.counters.timedOut - book.overloadStart.timedOut
                ))
                book.overloadLastSeen = nil
            }
            if let last = book.acceptFailureLastSeen, now - last >= Self.overloadQuietNanoseconds {
                events.append(.acceptRecovered(failures: book.acceptFailuresInEpisode))
                book.acceptFailuresInEpisode = 0
                book.acceptFailureLastSeen = nil
            }
            if book.peak >= Self.trimAfterPeak, book.admission.count <= Self.trimWhenHolding {
                trim = true
                book.peak = book.admission.count
            }
            return expiries.compactMap { book.channels.removeValue(forKey: $0.connection) }
        }
        for channel in expired { channel.close(promise: nil) }
        for event in events { onEvent(event) }
        // glibc keeps freed heap in its arenas; after thousands of TLS connections that is
        // tens of megabytes the server would otherwise hold until it exits.
        if trim { _ = pendulum_release_free_heap() }
    }

    func closeAll() {
        let channels = book.withLockedValue { book -> [Channel] in
            let all = Array(book.channels.values)
            book.channels = [:]
            return all
        }
        for channel in channels { channel.close(promise: nil) }
    }
}
