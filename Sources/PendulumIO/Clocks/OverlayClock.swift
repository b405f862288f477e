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
        var synchronized = false

        var rate: Double { intrinsicFrequencyError + correction }

        func reading(atSystemTime systemTime: UnixTime) -> UnixTime {
            let elapsed = systemTime - systemBase
            var time = overlayBase + elapsed + NTPDuration(approximateSeconds: elapsed.seconds * rate)
            if let leapAt {
                switch leap {
                case .insertSecond where time >= leapAt: time = time - .seconds(1)
                case .deleteSecond where time >= leapAt - .seconds(1): time = time + .seconds(1)
                default: break
                }
            }
            return time
        }

        mutating func rebase(atSystemTime systemTime: UnixTime) {
            overlayBase = reading(atSystemTime: systemTime)
            systemBase = systemTime
            if let leapAt, overlayBase >= leapAt {
                // The leap second has happened: it is now part of the base.
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
