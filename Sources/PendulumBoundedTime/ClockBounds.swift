#if canImport(Glibc)
    import Glibc
#endif
import CPendulumShim
import PendulumTime

/// What a time daemon publishes about its clock's error (the bounds segment, version 1): from
/// it, the earliest and latest true time for any instant until the next update. Pure values and
/// arithmetic; `BoundsSegment` maps the file, `BoundedClock` reads the clocks.
public struct ClockBounds: Sendable, Hashable {
    public enum Status: UInt32, Sendable, Hashable {
        case unknown = 0
        case synchronized = 1
        case freeRunning = 2
    }

    /// CLOCK_REALTIME and CLOCK_MONOTONIC (ns) when these values were computed.
    public var asOfRealtimeNanoseconds: Int64
    public var asOfMonotonicNanoseconds: Int64
    /// The disciplined clock minus CLOCK_REALTIME then (ns), and the rate at which that grows.
    public var clockOffsetNanoseconds: Int64
    public var clockRate: Double
    /// Largest error of the disciplined clock then (ns), and its growth (ns per second).
    public var boundNanoseconds: Int64
    public var maximumDriftPPB: UInt32
    public var status: Status
    /// CLOCK_MONOTONIC instant (ns) after which the values are stale.
    public var voidAfterMonotonicNanoseconds: Int64

    public init(
        asOfRealtimeNanoseconds: Int64, asOfMonotonicNanoseconds: Int64, clockOffsetNanoseconds: Int64 = 0,
        clockRate: Double = 0, boundNanoseconds: Int64, maximumDriftPPB: UInt32, status: Status,
        voidAfterMonotonicNanoseconds: Int64
    ) {
        self.asOfRealtimeNanoseconds = asOfRealtimeNanoseconds
        self.asOfMonotonicNanoseconds = asOfMonotonicNanoseconds
        self.clockOffsetNanoseconds = clockOffsetNanoseconds
        self.clockRate = clockRate
        self.boundNanoseconds = boundNanoseconds
        self.maximumDriftPPB = maximumDriftPPB
        self.status = status
        self.voidAfterMonotonicNanoseconds = voidAfterMonotonicNanoseconds
    }

    /// Reads a segment's values, refusing what no daemon of ours writes.
    public init(segment: pendulum_bounds) throws(BoundedTimeError) {
        guard segment.magic == PENDULUM_BOUNDS_MAGIC else { throw .notABoundsSegment }
        guard segment.version == UInt32(PENDULUM_BOUNDS_VERSION), segment.size == UInt32(PENDULUM_BOUNDS_SIZE) else {
            throw .unsupportedVersion(segment.version)
        }
        guard let status = Status(rawValue: segment.status) else { throw .implausibleValues("status \(segment.status)") }
        guard segment.bound_ns >= 0 else { throw .implausibleValues("negative bound") }
        // A rate beyond ±1 s/s is no clock; NaN is no number.
        guard segment.clock_rate.isFinite, abs(segment.clock_rate) < 1 else { throw .implausibleValues("clock rate \(segment.clock_rate)") }
        self.init(
            asOfRealtimeNanoseconds: segment.as_of_realtime_ns, asOfMonotonicNanoseconds: segment.as_of_monotonic_ns,
            clockOffsetNanoseconds: segment.clock_offset_ns, clockRate: segment.clock_rate, boundNanoseconds: segment.bound_ns,
            maximumDriftPPB: segment.max_drift_ppb, status: status,
            voidAfterMonotonicNanoseconds: segment.void_after_monotonic_ns
        )
    }

    /// The values as the segment holds them (magic, version and size filled in).
    public var segment: pendulum_bounds {
        var segment = pendulum_bounds()
        segment.magic = PENDULUM_BOUNDS_MAGIC
        segment.version = UInt32(PENDULUM_BOUNDS_VERSION)
        segment.size = UInt32(PENDULUM_BOUNDS_SIZE)
        segment.as_of_realtime_ns = asOfRealtimeNanoseconds
        segment.as_of_monotonic_ns = asOfMonotonicNanoseconds
        segment.clock_offset_ns = clockOffsetNanoseconds
        segment.clock_rate = clockRate
        segment.bound_ns = boundNanoseconds
        segment.max_drift_ppb = maximumDriftPPB
        segment.status = status.rawValue
        segment.void_after_monotonic_ns = voidAfterMonotonicNanoseconds
        return segment
    }

    /// The disciplined clock's reading and its bounds at the instant CLOCK_REALTIME read
    /// `realtime` and CLOCK_MONOTONIC `monotonic` (both ns).
    public func interval(realtimeNanoseconds realtime: Int64, monotonicNanoseconds monotonic: Int64) throws(BoundedTimeError) -> BoundedInstant {
        guard status != .unknown else { throw .notPublished }
        guard monotonic <= voidAfterMonotonicNanoseconds else { throw .stale }
        let sinceUpdate = try Self.checked(realtime.subtractingReportingOverflow(asOfRealtimeNanoseconds))
        let monotonicSinceUpdate = try Self.checked(monotonic.subtractingReportingOverflow(asOfMonotonicNanoseconds))
        guard monotonicSinceUpdate >= 0 else { throw .implausibleValues("published in the future") }
        // Both products are far below 2^53 ns for any interval a segment stays valid.
        let drift = (clockRate * Double(sinceUpdate)).rounded()
        let growth = (Double(maximumDriftPPB) * Double(monotonicSinceUpdate) / 1e9).rounded(.up)
        guard abs(drift) < 9e18, growth < 9e18 else { throw .implausibleValues("interval too long") }
        let offset = try Self.checked(clockOffsetNanoseconds.addingReportingOverflow(Int64(drift)))
        let clock = try Self.checked(realtime.addingReportingOverflow(offset))
        let bound = try Self.checked(boundNanoseconds.addingReportingOverflow(Int64(growth)))
        let earliest = try Self.checked(clock.subtractingReportingOverflow(bound))
        let latest = try Self.checked(clock.addingReportingOverflow(bound))
        return BoundedInstant(
            system: UnixTime(seconds: 0, nanoseconds: realtime),
            clock: UnixTime(seconds: 0, nanoseconds: clock), earliest: UnixTime(seconds: 0, nanoseconds: earliest),
            latest: UnixTime(seconds: 0, nanoseconds: latest), boundNanoseconds: bound, status: status
        )
    }

    private static func checked(_ result: (partialValue: Int64, overflow: Bool)) throws(BoundedTimeError) -> Int64 {
        guard !result.overflow else { throw .implausibleValues("arithmetic overflow") }
        return result.partialValue
    }
}

/// One reading of a bounded clock: true time lay between `earliest` and `latest` when the
/// disciplined clock read `clock`.
public struct BoundedInstant: Sendable, Hashable {
    /// CLOCK_REALTIME at the instant (the disciplined clock itself unless it is an overlay).
    public var system: UnixTime
    public var clock: UnixTime
    public var earliest: UnixTime
    public var latest: UnixTime
    public var boundNanoseconds: Int64
    public var status: ClockBounds.Status

    public var synchronized: Bool { status == .synchronized }
}

/// Why no bounds could be had.
public enum BoundedTimeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file could not be opened or mapped (errno).
    case cannotOpen(path: String, code: Int32)
    case notABoundsSegment
    case unsupportedVersion(UInt32)
    case implausibleValues(String)
    /// The daemon has published nothing yet (it is starting, or stopped cleanly).
    case notPublished
    /// The daemon has not updated the values in time: it stopped or hangs.
    case stale
    /// A writer stopped halfway through an update.
    case inconsistent

    public var description: String {
        switch self {
        case .cannotOpen(let path, let code):
            "cannot open \(path): \(String(cString: strerror(code))) (is pendulum-ntpd running with [observability] bounds-path set?)"
        case .notABoundsSegment: "not a bounds segment (wrong magic number)"
        case .unsupportedVersion(let version): "bounds segment version \(version) is not supported (this reader knows version 1)"
        case .implausibleValues(let what): "bounds segment holds implausible values: \(what)"
        case .notPublished: "the daemon has not published bounds yet (not synchronised since it started, or stopped)"
        case .stale: "the bounds are stale: the daemon stopped updating them"
        case .inconsistent: "the bounds segment was being written and never became consistent"
        }
    }
}
