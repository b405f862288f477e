import PendulumNTPServer

/// Which NTS-KE connections a server keeps when clients ask for more than it can hold.
///
/// No I/O: the listener reports accepts, phase changes and closes with a monotonic time, and
/// closes what this tells it to. The policy keeps honest clients served under a flood:
/// - one address, and one prefix (IPv4 /24, IPv6 /48), may hold only so many connections;
///   beyond that the new one is refused, so one host or one network cannot fill the server;
/// - one prefix may open only so many connections per second (a burst, then a steady rate):
///   every admitted connection costs a TLS handshake, and refusing costs almost nothing, so a
///   flood from many networks cannot spend all the CPU on handshakes that go nowhere. An honest
///   client runs NTS-KE when it starts and when its cookies run out, far below the rate;
/// - while the server is under pressure (it was full within the last ten seconds), a
///   connection that ends before its answer (shed, timed out, or closed by the client) is
///   charged to its network as `abandonedCost` more connections: a flood from hundreds of
///   networks whose every connection stalls after the ClientHello otherwise gets a handshake
///   through per network as fast as the deadlines free a place, the server's CPU goes on those
///   handshakes, its accept queue backs up, and an honest client waits seconds at its end. An
///   honest client reaches its answer and pays nothing; without a flood nothing is charged;
/// - when the server as a whole is full, a new connection from a network that holds none is
///   still admitted, and the connection that has sat longest in its current phase is shed
///   instead. An honest exchange moves through its phases within a few round trips, so it is
///   always among the freshest; what is shed first is the idle socket and the stalled
///   handshake. A new connection from a network that already holds one is refused while the
///   server is full: refusing costs microseconds, admitting costs a handshake, and a flood that
///   had every connection admitted would keep the accept queue seconds deep, with the honest
///   client waiting at its end;
/// - every phase has its own deadline, so a stall costs at most that long even without a flood.
/// A connection that is already sending its answer is never shed.
package struct NTSKEAdmission: Sendable {
    package typealias ConnectionID = UInt64

    package struct Limits: Sendable, Hashable {
        /// Connections held at once; beyond this the longest-stalled one is shed.
        package var total: Int
        package var perAddress: Int
        package var perPrefix: Int
        /// From accept to the first byte of the ClientHello.
        package var helloNanoseconds: Int64
        /// From the first byte to the end of the TLS handshake.
        package var handshakeNanoseconds: Int64
        /// From the end of the handshake to a complete request.
        package var requestNanoseconds: Int64
        /// From accept to the answer, whatever the phases took.
        package var connectionNanoseconds: Int64
        /// New connections per prefix: on average one per this interval (0: no limit) …
        package var prefixRateIntervalNanoseconds: Int64
        /// … after a burst of this many.
        package var prefixRateBurst: Int64
        /// Under pressure, a connection that ends before its answer counts as this many more
        /// against its prefix's rate (0: no charge).
        package var abandonedCost: Int64

        package init(total: Int = 512, perAddress: Int = 8, perPrefix: Int = 64,
                    helloNanoseconds: Int64 = 2_000_000_000, handshakeNanoseconds: Int64 = 2_000_000_000,
                    requestNanoseconds: Int64 = 2_000_000_000, connectionNanoseconds: Int64 = 5_000_000_000,
                    prefixRateIntervalNanoseconds: Int64 = 125_000_000, prefixRateBurst: Int64 = 32,
                    abandonedCost: Int64 = 64) {
            self.total = max(1, total)
            self.perAddress = max(1, perAddress)
            self.perPrefix = max(1, perPrefix)
            self.helloNanoseconds = max(0, helloNanoseconds)
            self.handshakeNanoseconds = max(0, handshakeNanoseconds)
            self.requestNanoseconds = max(0, requestNanoseconds)
            self.connectionNanoseconds = max(0, connectionNanoseconds)
            self.prefixRateIntervalNanoseconds = max(0, prefixRateIntervalNanoseconds)
            self.prefixRateBurst = max(1, prefixRateBurst)
            self.abandonedCost = max(0, abandonedCost)
        }
    }

    package enum Phase: String, Sendable, Hashable, CaseIterable {
        /// Accepted; no byte received yet.
        case awaitingHello = "awaiting ClientHello"
        /// ClientHello started; TLS handshake not finished.
        case handshaking = "TLS handshake"
        /// Handshake done; the NTS-KE request is not complete.
        case awaitingRequest = "awaiting request"
        /// The answer is being written; never shed.
        case answering = "answering"
    }

    package enum Refusal: String, Sendable, Hashable {
        case addressLimit = "too many connections from this address"
        case prefixLimit = "too many connections from this network"
        case prefixRate = "too many new connections per second from this network"
        /// Full, and this connection's network already holds one.
        case fullForThisNetwork = "full, and this network already holds a connection"
        /// Full, and every connection held is answering: nothing may be shed.
        case full = "full, all connections answering"
    }

    package enum Decision: Sendable, Hashable {
        /// Take the connection; close the ones listed first (at most one).
        case admitted(shedding: [ConnectionID])
        case refused(Refusal)
    }

    /// A connection closed because it overstayed.
    package struct Expiry: Sendable, Hashable {
        package var connection: ConnectionID
        package var phase: Phase

        package init(connection: ConnectionID, phase: Phase) {
            self.connection = connection
            self.phase = phase
        }
    }

    struct Entry {
        var address: ClientAddress
        var prefix: ClientAddress
        var phase: Phase
        var acceptedAt: Int64
        var phaseEnteredAt: Int64
        /// Neighbours in the list ordered by `phaseEnteredAt`, oldest first.
        var older: ConnectionID?
        var newer: ConnectionID?
    }

    package let limits: Limits
    private var prefixRate: RateLimiter?
    private var entries: [ConnectionID: Entry] = [:]
    private var perAddress: [ClientAddress: Int] = [:]
    private var perPrefix: [ClientAddress: Int] = [:]
    /// Ends of the list in phase-entry order; answering connections are kept out of it, so
    /// its head is always the one to shed.
    private var oldest: ConnectionID?
    private var newest: ConnectionID?
    /// When a connection last found the server full; nil: never.
    private var lastFull: Int64?
    /// How long after the server was last full abandoned connections are still charged.
    static let pressureNanoseconds: Int64 = 10_000_000_000

    package init(limits: Limits = Limits()) {
        self.limits = limits
        if limits.prefixRateIntervalNanoseconds > 0 {
            // A fixed table: a flood from a million networks costs no more memory than one.
            prefixRate = RateLimiter(configuration: RateLimiter.Configuration(
                minimumIntervalNanoseconds: limits.prefixRateIntervalNanoseconds, burst: limits.prefixRateBurst,
                kissIntervalNanoseconds: 0, tableSize: 1 << 14
            ))
        }
    }

    package var count: Int { entries.count }

    package func phase(of connection: ConnectionID) -> Phase? { entries[connection]?.phase }

    /// The network a client belongs to for the per-prefix limit.
    package static func prefix(of address: ClientAddress) -> ClientAddress {
        address.isIPv4
            ? ClientAddress(high: 0, low: address.low & 0xFFFF_FF00, isIPv4: true)
            : ClientAddress(high: address.high & 0xFFFF_FFFF_FFFF_0000, low: 0, isIPv4: false)
    }

    /// A new TCP connection from `address` at `now`. An ID already held is treated as a new
    /// connection after the old one is forgotten.
    @discardableResult
    package mutating func admit(_ connection: ConnectionID, from address: ClientAddress, now: Int64) -> Decision {
        closed(connection, now: now)
        let prefix = Self.prefix(of: address)
        let full = entries.count >= limits.total
        if full { lastFull = now }
        if perAddress[address, default: 0] >= limits.perAddress { return .refused(.addressLimit) }
        if perPrefix[prefix, default: 0] >= limits.perPrefix { return .refused(.prefixLimit) }
        if full, perPrefix[prefix, default: 0] > 0 { return .refused(.fullForThisNetwork) }
        if full, oldest == nil { return .refused(.full) }
        // Charged only for a connection that would otherwise be admitted.
        if case .limited = prefixRate?.check(client: prefix, now: now) { return .refused(.prefixRate) }
        var shed: [ConnectionID] = []
        if full, let victim = oldest {
            closed(victim, now: now)
            shed.append(victim)
        }
        entries[connection] = Entry(address: address, prefix: prefix, phase: .awaitingHello, acceptedAt: now, phaseEnteredAt: now)
        perAddress[address, default: 0] += 1
        perPrefix[prefix, default: 0] += 1
        appendNewest(connection)
        return .admitted(shedding: shed)
    }

    /// The connection reached `phase` at `now`. Going back to an earlier phase is ignored.
    package mutating func entered(_ phase: Phase, connection: ConnectionID, now: Int64) {
        guard var entry = entries[connection], Self.rank(phase) > Self.rank(entry.phase) else { return }
        unlink(connection)
        entry = entries[connection] ?? entry
        entry.phase = phase
        entry.phaseEnteredAt = now
        entries[connection] = entry
        if phase != .answering { appendNewest(connection) }
    }

    /// The connection is gone at `now`, for whatever reason; before its answer, its network
    /// is charged for it. Unknown IDs are ignored.
    package mutating func closed(_ connection: ConnectionID, now: Int64) {
        guard let entry = entries[connection] else { return }
        if entry.phase != .answering {
            unlink(connection)
            if underPressure(at: now) {
                // A charge may hold a network off for a while, never for long: honest clients
                // that share a /24 with an attacker get their turn back within this.
                prefixRate?.charge(client: entry.prefix, intervals: limits.abandonedCost, now: now, longest: Self.longestCharge)
            }
        }
        entries[connection] = nil
        Self.decrement(&perAddress, entry.address)
        Self.decrement(&perPrefix, entry.prefix)
    }

    static let longestCharge: Int64 = 30_000_000_000

    private func underPressure(at now: Int64) -> Bool {
        guard let lastFull else { return false }
        let (elapsed, overflow) = now.subtractingReportingOverflow(lastFull)
        return !overflow && elapsed < Self.pressureNanoseconds
    }

    /// Connections past a deadline at `now`; they are forgotten here, the caller closes them.
    package mutating func expire(now: Int64) -> [Expiry] {
        var expired: [Expiry] = []
        for (connection, entry) in entries where now >= deadline(of: entry) {
            expired.append(Expiry(connection: connection, phase: entry.phase))
        }
        for expiry in expired { closed(expiry.connection, now: now) }
        return expired
    }

    /// Up to `limit` of the longest-stalled connections, forgotten here for the caller to
    /// close: what gives descriptors back when accept fails for want of them.
    package mutating func shedLongestStalled(limit: Int, now: Int64) -> [ConnectionID] {
        lastFull = now
        var shed: [ConnectionID] = []
        while shed.count < limit, let victim = oldest {
            closed(victim, now: now)
            shed.append(victim)
        }
        return shed
    }

    func deadline(of entry: Entry) -> Int64 {
        let phaseLimit: Int64 = switch entry.phase {
        case .awaitingHello: limits.helloNanoseconds
        case .handshaking: limits.handshakeNanoseconds
        case .awaitingRequest: limits.requestNanoseconds
        case .answering: limits.connectionNanoseconds
        }
        let (phaseEnd, phaseOverflow) = entry.phaseEnteredAt.addingReportingOverflow(phaseLimit)
        let (connectionEnd, connectionOverflow) = entry.acceptedAt.addingReportingOverflow(limits.connectionNanoseconds)
        return min(phaseOverflow ? .max : phaseEnd, connectionOverflow ? .max : connectionEnd)
    }

    static func rank(_ phase: Phase) -> Int {
        switch phase {
        case .awaitingHello: 0
        case .handshaking: 1
        case .awaitingRequest: 2
        case .answering: 3
        }
    }

    private static func decrement(_ counts: inout [ClientAddress: Int], _ key: ClientAddress) {
        guard let count = counts[key] else { return }
        counts[key] = count > 1 ? count - 1 : nil
    }

    private mutating func appendNewest(_ connection: ConnectionID) {
        entries[connection]?.older = newest
        entries[connection]?.newer = nil
        if let newest { entries[newest]?.newer = connection } else { oldest = connection }
        newest = connection
    }

    private mutating func unlink(_ connection: ConnectionID) {
        guard let entry = entries[connection] else { return }
        if let older = entry.older { entries[older]?.newer = entry.newer } else if oldest == connection { oldest = entry.newer }
        if let newer = entry.newer { entries[newer]?.older = entry.older } else if newest == connection { newest = entry.older }
        entries[connection]?.older = nil
        entries[connection]?.newer = nil
    }
}
