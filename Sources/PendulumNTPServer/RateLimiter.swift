/// Per-client request rate limiting in a fixed amount of memory.
///
/// Clients are hashed (SipHash, seeded per process, so nobody can aim collisions) into a table
/// whose size is fixed at creation: a million distinct addresses cost exactly as much memory as
/// ten. A client whose slot was taken over by another simply starts afresh, which can only make
/// the limiter more lenient, never block an innocent client.
///
/// Each slot runs the generic cell rate algorithm: a request is allowed when it does not arrive
/// more than `burst - 1` intervals ahead of the client's theoretical schedule. Over the limit,
/// a RATE kiss is allowed at most once per `kissInterval` per slot, so kisses cannot be used
/// for amplification either.
public struct RateLimiter: Sendable {
    public struct Configuration: Sendable, Hashable {
        /// Average spacing allowed between requests from one client, in nanoseconds.
        public var minimumIntervalNanoseconds: Int64
        /// Requests a client may send back to back before the spacing applies.
        public var burst: Int64
        /// At most one RATE kiss per client per this many nanoseconds.
        public var kissIntervalNanoseconds: Int64
        /// Slots in the table (rounded up to a power of two, at least 16).
        public var tableSize: Int

        public init(minimumIntervalNanoseconds: Int64 = 125_000_000, burst: Int64 = 16,
                    kissIntervalNanoseconds: Int64 = 4_000_000_000, tableSize: Int = 1 << 16) {
            self.minimumIntervalNanoseconds = max(0, minimumIntervalNanoseconds)
            self.burst = max(1, burst)
            self.kissIntervalNanoseconds = max(0, kissIntervalNanoseconds)
            self.tableSize = tableSize
        }
    }

    public enum Verdict: Sendable, Hashable {
        case allowed
        /// Over the limit; `kiss` tells whether a RATE kiss may be sent for it.
        case limited(kiss: Bool)
    }

    struct Slot {
        var tag: Int = 0
        var occupied = false
        /// When the client's next request is due on its schedule (GCRA's TAT).
        var theoreticalArrival: Int64 = 0
        var lastKiss: Int64 = .min
    }

    public let configuration: Configuration
    private var slots: ContiguousArray<Slot>
    private let mask: Int

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        var size = 16
        while size < configuration.tableSize && size < (1 << 26) { size <<= 1 }
        slots = ContiguousArray(repeating: Slot(), count: size)
        mask = size - 1
    }

    public var slotCount: Int { slots.count }

    /// Judges one request from `client` (its address bytes) at monotonic time `now`.
    public mutating func check(client: some Sequence<UInt8>, now: Int64) -> Verdict {
        var hasher = Hasher()
        for byte in client { hasher.combine(byte) }
        return check(tag: hasher.finalize(), now: now)
    }

    /// The same judgement for an address in words: what the serving path uses, no allocation.
    public mutating func check(client: ClientAddress, now: Int64) -> Verdict {
        check(tag: Self.tag(of: client), now: now)
    }

    /// Charges `client` for `intervals` more requests than it made, as if it had sent them at
    /// `now`, but never puts its schedule more than `longest` past `now`: what a client pays
    /// for costing the server more than a request (an NTS-KE handshake it then abandoned), so
    /// that it is refused sooner. A client whose slot another has taken is not charged.
    public mutating func charge(client: ClientAddress, intervals: Int64, now: Int64, longest: Int64) {
        let tag = Self.tag(of: client)
        let index = tag & mask
        guard slots[index].occupied, slots[index].tag == tag else { return }
        let schedule = max(slots[index].theoreticalArrival, now)
        let charged = saturatingAdd(schedule, saturatingMultiply(configuration.minimumIntervalNanoseconds, max(0, intervals)))
        slots[index].theoreticalArrival = max(slots[index].theoreticalArrival, min(charged, saturatingAdd(now, max(0, longest))))
    }

    private static func tag(of client: ClientAddress) -> Int {
        var hasher = Hasher()
        hasher.combine(client.high)
        hasher.combine(client.low)
        hasher.combine(client.isIPv4)
        return hasher.finalize()
    }

    private mutating func check(tag: Int, now: Int64) -> Verdict {
        let index = tag & mask
        if !slots[index].occupied || slots[index].tag != tag {
            slots[index] = Slot(tag: tag, occupied: true, theoreticalArrival: now, lastKiss: .min)
        }
        let interval = configuration.minimumIntervalNanoseconds
        let tolerance = saturatingMultiply(interval, configuration.burst - 1)
        let schedule = max(slots[index].theoreticalArrival, now)
        if saturatingSubtract(schedule, now) > tolerance {
            let lastKiss = slots[index].lastKiss
            let kiss = lastKiss == .min || saturatingSubtract(now, lastKiss) >= configuration.kissIntervalNanoseconds
            if kiss { slots[index].lastKiss = now }
            return .limited(kiss: kiss)
        }
        slots[index].theoreticalArrival = saturatingAdd(schedule, interval)
        return .allowed
    }
}

func saturatingAdd(_ a: Int64, _ b: Int64) -> Int64 {
    let (sum, overflow) = a.addingReportingOverflow(b)
    return overflow ? (b > 0 ? .max : .min) : sum
}

func saturatingSubtract(_ a: Int64, _ b: Int64) -> Int64 {
    let (difference, overflow) = a.subtractingReportingOverflow(b)
    return overflow ? (b < 0 ? .max : .min) : difference
}

func saturatingMultiply(_ a: Int64, _ b: Int64) -> Int64 {
    let (product, overflow) = a.multipliedReportingOverflow(by: b)
    return overflow ? ((a < 0) != (b < 0) ? .min : .max) : product
}
