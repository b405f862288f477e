import PendulumTime
import Synchronization

/// A software clock that runs on top of the system clock and is disciplined exactly like a
/// real one, without ever changing the system clock.
///
/// It is how a program gets its own disciplined time without privileges, and how every test
/// and demo runs on a shared machine: start it wrong on purpose (an initial offset and a
/// frequency error standing in for a bad oscillator), let the daemon steer it, and read its
/// error against the system clock, which on one machine is the truth.
///
/// overlay(s) = base + (s − s₀)·(1 + intrinsic error + correction), re-based at every change so
/// the scaled interval stays short.
@available(macOS 15, *)
public final class OverlayClock: SteerableClock {
    private struct State {
        var systemBase: UnixTime
        var overlayBase: UnixTime
        /// The simulated oscillator's own error, s/s.
        var intrinsicFrequencyError: Double
        /// The correction the discipline applied, s/s.
        var correction: Double
        var leap: LeapIndicator = .none
        /// The first overlay instant after the announced leap second.
        var leapAt: UnixTime?
        /// The end of the last leap second inserted, once it is part of the base: the second
        /// before it is read twice.
        var insertedLeapEnd: UnixTime?
        var synchronized = false

        var rate: Double { intrinsicFrequencyError + correction }

        /// The reading before any leap second announced is carried out.
        func continuousReading(atSystemTime systemTime: UnixTime) -> UnixTime {
            let elapsed = systemTime - systemBase
            return overlayBase + elapsed + NTPDuration(approximateSeconds: elapsed.seconds * rate)
        }

        func reading(atSystemTime systemTime: UnixTime) -> UnixTime {
            var time = continuousReading(atSystemTime: systemTime)
            if let leapAt {
                switch leap {
                case .insertSecond where time >= leapAt: time = time - .seconds(1)
                case .deleteSecond where time >= leapAt - .seconds(1): time = time + .seconds(1)
                default: break
                }
            }
            return time
        }

        func repeatsLeapSecond(atSystemTime systemTime: UnixTime) -> Bool {
            if leap == .insertSecond, let leapAt {
                let time = continuousReading(atSystemTime: systemTime)
                return time >= leapAt && time < leapAt + .seconds(1)
            }
            guard let end = insertedLeapEnd else { return false }
            let time = reading(atSystemTime: systemTime)
            return time >= end - .seconds(1) && time < end
        }

        mutating func rebase(atSystemTime systemTime: UnixTime) {
            let continuous = continuousReading(atSystemTime: systemTime)
            overlayBase = reading(atSystemTime: systemTime)
            systemBase = systemTime
            if let end = insertedLeapEnd, overlayBase >= end { insertedLeapEnd = nil }
            // Judged on the continuous reading: once an inserted second has begun, the
            // reading is back before `leapAt`, and a base that kept the announcement would
            // take the second out again.
            if let leapAt, leap == .insertSecond ? continuous >= leapAt : continuous >= leapAt - .seconds(1) {
                // The leap second has happened: it is now part of the base.
                if leap == .insertSecond { insertedLeapEnd = leapAt }
                self.leapAt = nil
                leap = .none
            }
        }
    }

    public let kind = ClockKind.overlay
    private let state: Mutex<State>
    private let readSystemClock: @Sendable () -> UnixTime

    /// - Parameters:
    ///   - initialOffset: how far ahead of the system clock it starts.
    ///   - intrinsicFrequencyError: how fast it runs on its own, in s/s (30e-6 = 30 ppm fast).
    ///   - systemClock: where "system time" comes from; tests pass a virtual one.
    public init(
        initialOffset: NTPDuration = .zero, intrinsicFrequencyError: Double = 0,
        systemClock: @escaping @Sendable () -> UnixTime = WallClock.now
    ) {
        readSystemClock = systemClock
        let start = systemClock()
        state = Mutex(State(
            systemBase: start, overlayBase: start + initialOffset,
            intrinsicFrequencyError: intrinsicFrequencyError, correction: 0
        ))
    }

    public func now() -> UnixTime {
        time(atSystemTime: readSystemClock())
    }

    public func time(atSystemTime systemTime: UnixTime) -> UnixTime {
        state.withLock { $0.reading(atSystemTime: systemTime) }
    }

    /// As fast as the system clock it stands in for, so the overlay behaves as the system
    /// clock would in tests and demos.
    public var maximumFrequencyCorrection: Double { KernelClock.maximumSystemSlewRate }

    public func setFrequency(_ correction: Double) throws(ClockError) {
        guard correction.isFinite else { throw ClockError("set overlay frequency", code: 22 /* EINVAL */) }
        let now = readSystemClock()
        state.withLock { state in
            state.rebase(atSystemTime: now)
            state.correction = correction
        }
    }

    public func step(by offset: NTPDuration) throws(ClockError) {
        let now = readSystemClock()
        state.withLock { state in
            state.rebase(atSystemTime: now)
            state.overlayBase = state.overlayBase + offset
        }
    }

    public func setLeap(_ indicator: LeapIndicator) throws(ClockError) {
        let leap = indicator.leapSecond
        let now = readSystemClock()
        state.withLock { state in
            state.rebase(atSystemTime: now)
            state.leap = leap
            state.leapAt = leap == .none ? nil : Self.nextUTCMidnight(after: state.overlayBase)
        }
    }

    public var isRepeatingLeapSecond: Bool {
        let now = readSystemClock()
        return state.withLock { $0.repeatsLeapSecond(atSystemTime: now) }
    }

    public func setSynchronized(_ synchronized: Bool, maximumError: NTPDuration, estimatedError: NTPDuration) throws(ClockError) {
        state.withLock { $0.synchronized = synchronized }
    }

    /// The rate the overlay runs at against the system clock, s/s (its own error plus the
    /// correction). A leap second it carries out is a step, not part of this.
    public var rateAgainstSystemClock: Double {
        state.withLock { $0.rate }
    }

    /// How far this clock is ahead of the system clock now.
    public var offsetFromSystem: NTPDuration {
        let system = readSystemClock()
        return time(atSystemTime: system) - system
    }

    public var status: ClockStatus {
        let system = readSystemClock()
        return state.withLock { state in
            ClockStatus(
                kind: .overlay, frequencyPPM: state.correction * 1e6, leap: state.leap, synchronized: state.synchronized,
                offsetFromSystem: state.reading(atSystemTime: system) - system
            )
        }
    }

    static func nextUTCMidnight(after time: UnixTime) -> UnixTime {
        let day = time.seconds >= 0 ? time.seconds / 86_400 : (time.seconds - 86_399) / 86_400
        return UnixTime(seconds: (day + 1) * 86_400)
    }
}
