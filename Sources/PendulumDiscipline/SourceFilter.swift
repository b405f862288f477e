#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A Kalman filter over one source's (offset, frequency), in seconds and s/s of local time.
///
/// Model: the offset integrates the frequency; the frequency is a random walk whose variance
/// grows by `wander` per second (the oscillator's wander, estimated online). Measurement
/// noise is not a constant: each sample's variance comes from its own excess delay over the
/// path's minimum (see `MinimumDelayTracker`), so samples that met no queueing dominate and
/// samples that queued are weighed down instead of being thrown away. Samples whose
/// innovation is implausible are rejected; several consistent ones in a row mean the clock
/// (or the source) jumped, and the filter restarts from them.
public struct SourceFilter: Sendable {
    public struct Configuration: Sendable, Hashable {
        /// Variance floor for a single measurement (timestamping precision), s².
        public var measurementFloorVariance: Double = 1e-16
        /// Prior std-dev of the frequency when a filter starts, s/s.
        public var initialFrequencyUncertainty: Double = 1e-4
        /// Starting guess for the wander (frequency random-walk variance per second), s²/s³.
        public var initialWander: Double = 1e-16
        public var wanderLimits: ClosedRange<Double> = 1e-24...1e-10
        /// How fast the wander estimate follows the innovations.
        public var wanderAdaptationGain: Double = 0.05
        /// Innovations beyond this many standard deviations are rejected.
        public var outlierGate: Double = 6
        /// Delays beyond minimum + this many median excesses are rejected outright.
        public var delayOutlierFactor: Double = 12
        /// Consecutive consistent rejections that mean the clock jumped.
        public var jumpConfirmations: Int = 3
        /// Consecutive samples this far above the delay floor (in median excesses) mean the
        /// path itself got longer (a new route, a changed link) rather than busier.
        public var pathChangeFactor: Double = 4
        public var pathChangeConfirmations: Int = 8
        public init() {}
    }

    public enum Outcome: Sendable, Hashable {
        case accepted
        case rejectedDelay
        case rejectedOutlier
        /// The filter restarted: several samples agreed on a jump of this many seconds.
        case jumped(Double)
    }

    public private(set) var offset: Double = 0
    public private(set) var frequency: Double = 0
    public private(set) var p00: Double = 0
    public private(set) var p01: Double = 0
    public private(set) var p11: Double = 0
    /// Local time (seconds since the discipline's epoch) of the estimate.
    public private(set) var time: Double = 0
    public private(set) var wander: Double
    public private(set) var sampleCount = 0
    public private(set) var lastDelay: Double = 0
    var delays = MinimumDelayTracker()
    /// Frequency changes applied after the newest sample (local time, s/s), oldest first: a
    /// sample older than `time` (an interleaved answer completes the previous exchange, up to
    /// a poll interval old) is compared with the offset the clock had then, and the changes
    /// made since are part of the difference.
    private var changesSinceLastSample: [(time: Double, amount: Double)] = []
    private var lastSampleTime: Double = -.infinity
    private static let changesKept = 512
    private var pendingJumps: [Double] = []
    /// Samples in a row far above the delay floor; enough of them re-base the floor.
    private var samplesAboveFloor = 0
    let configuration: Configuration

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        wander = configuration.initialWander
    }

    public var isStarted: Bool { sampleCount > 0 }

    /// The offset and its variance extrapolated to local time `t`.
    public func predicted(at t: Double) -> (offset: Double, variance: Double, frequency: Double) {
        let dt = max(0, t - time)
        let q = wander
        let variance = p00 + 2 * dt * p01 + dt * dt * p11 + q * dt * dt * dt / 3
        return (offset + frequency * dt, variance, frequency)
    }

    /// The variance a sample with this delay gets.
    mutating func measurementVariance(delay: Double) -> Double {
        let (minimum, medianExcess) = delays.statistics()
        let excess = max(0, delay - minimum)
        // How far the observed minimum may sit above the true floor shrinks with samples seen.
        let floorUncertainty = medianExcess / Double(max(1, delays.count)).squareRoot()
        let spread = excess + floorUncertainty
        var variance = spread * spread / 12 + configuration.measurementFloorVariance
        if delays.count < 8 {
            // Too few samples to know the floor: only the delay itself bounds the error.
            variance = max(variance, delay * delay / 12)
        }
        return variance
    }

    /// Feeds one sample taken at local time `t`.
    public mutating func update(offset z: Double, delay: Double, at t: Double) -> Outcome {
        lastDelay = delay
        guard sampleCount > 0 else {
            delays.add(delay)
            start(offset: z, delay: delay, at: t)
            return .accepted
        }
        if delays.count >= 8 {
            let (minimum, medianExcess) = delays.statistics()
            delays.add(delay)
            let excess = delay - minimum
            samplesAboveFloor = excess > configuration.pathChangeFactor * max(medianExcess, 1e-6) ? samplesAboveFloor + 1 : 0
            if samplesAboveFloor >= configuration.pathChangeConfirmations {
                // The old floor is gone: judge samples against the new path from now on.
                delays.keepOnlyMostRecent(samplesAboveFloor)
                samplesAboveFloor = 0
            } else if excess > configuration.delayOutlierFactor * max(medianExcess, 1e-6) {
                return .rejectedDelay
            }
        } else {
            delays.add(delay)
        }
        let r = measurementVariance(delay: delay)
        if t < time {
            return updateFromThePast(offset: z, delay: delay, at: t, measurementVariance: r)
        }
        let dt = t - time
        let q = wander
        // Predict.
        let predictedOffset = offset + frequency * dt
        let processOffsetVariance = q * dt * dt * dt / 3
        let a00 = p00 + 2 * dt * p01 + dt * dt * p11 + processOffsetVariance
        let a01 = p01 + dt * p11 + q * dt * dt / 2
        let a11 = p11 + q * dt
        let innovation = z - predictedOffset
        let s = a00 + r
        if innovation * innovation > configuration.outlierGate * configuration.outlierGate * s {
            return handleOutlier(innovation: innovation, z: z, delay: delay, at: t, s: s)
        }
        pendingJumps.removeAll(keepingCapacity: true)
        // Update.
        let k0 = a00 / s
        let k1 = a01 / s
        offset = predictedOffset + k0 * innovation
        frequency += k1 * innovation
        p00 = (1 - k0) * a00
        p01 = (1 - k0) * a01
        p11 = a11 - k1 * a01
        time = t
        sampleCount += 1
        sampleTaken(at: t)
        adaptWander(innovation: innovation, s: s, processShare: processOffsetVariance / s)
        return .accepted
    }

    /// A sample taken at `t`, before the estimate's time (the discipline steered since, which
    /// brought the estimate forward). Treating it as taken now would read the offset the clock
    /// had a poll ago as today's: with a frequency still 20 ppm wrong after the start-up burst,
    /// a 16 s old sample is 320 µs off, and the filter, confident in its frequency, kept the
    /// wrong one for minutes. Instead the sample measures the state at `time` through
    /// offset(t) = offset − frequency·Δ − Σ change·(changeTime − t), Δ = time − t, with the
    /// wander over Δ added to its noise.
    private mutating func updateFromThePast(offset z: Double, delay: Double, at t: Double, measurementVariance r: Double) -> Outcome {
        let lag = time - t
        var appliedSince = 0.0
        for change in changesSinceLastSample where change.time > t {
            appliedSince += change.amount * (change.time - t)
        }
        let processVariance = wander * lag * lag * lag / 3
        let predictedOffset = offset - frequency * lag - appliedSince
        let innovation = z - predictedOffset
        // H = [1, −lag]; P·Hᵀ:
        let ph0 = p00 - lag * p01
        let ph1 = p01 - lag * p11
        let s = ph0 - lag * ph1 + r + processVariance
        if innovation * innovation > configuration.outlierGate * configuration.outlierGate * s {
            return handleOutlier(innovation: innovation, z: z, delay: delay, at: t, s: s)
        }
        pendingJumps.removeAll(keepingCapacity: true)
        let k0 = ph0 / s
        let k1 = ph1 / s
        offset += k0 * innovation
        frequency += k1 * innovation
        p00 -= k0 * ph0
        p01 -= k0 * ph1
        p11 -= k1 * ph1
        sampleCount += 1
        sampleTaken(at: t)
        adaptWander(innovation: innovation, s: s, processShare: processVariance / s)
        return .accepted
    }

    /// Samples of one source arrive in the order they were taken, so changes before the
    /// newest one are never needed again.
    private mutating func sampleTaken(at t: Double) {
        lastSampleTime = max(lastSampleTime, t)
        changesSinceLastSample.removeAll { $0.time <= lastSampleTime }
    }

    private mutating func start(offset z: Double, delay: Double, at t: Double) {
        offset = z
        frequency = 0
        p00 = max(delay * delay / 12, configuration.measurementFloorVariance)
        p01 = 0
        p11 = configuration.initialFrequencyUncertainty * configuration.initialFrequencyUncertainty
        time = t
        sampleCount = 1
        pendingJumps.removeAll(keepingCapacity: true)
        sampleTaken(at: t)
    }

    private mutating func handleOutlier(innovation: Double, z: Double, delay: Double, at t: Double, s: Double)
        -> Outcome
    {
        // Unexplained innovations may mean the wander was underestimated: let it grow.
        wander = min(configuration.wanderLimits.upperBound, wander * 2)
        pendingJumps.append(innovation)
        guard pendingJumps.count >= configuration.jumpConfirmations else { return .rejectedOutlier }
        let mean = pendingJumps.reduce(0, +) / Double(pendingJumps.count)
        let tolerance = max(abs(mean) / 4, 4 * s.squareRoot())
        let consistent = pendingJumps.allSatisfy { abs($0 - mean) <= tolerance }
        guard consistent else {
            pendingJumps.removeFirst()
            return .rejectedOutlier
        }
        let keptWander = wander
        let keptDelays = delays
        self = SourceFilter(configuration: configuration)
        delays = keptDelays
        wander = keptWander
        start(offset: z, delay: delay, at: t)
        p00 = max(p00, measurementVariance(delay: delay))
        return .jumped(mean)
    }

    /// Stochastic approximation on the normalised innovation: when innovations are larger than
    /// predicted the wander grows, when smaller it shrinks — weighted by how much of the
    /// predicted spread the wander accounts for, so measurement noise alone does not drive it.
    private mutating func adaptWander(innovation: Double, s: Double, processShare: Double) {
        let normalised = min(innovation * innovation / s, 25)
        let weight = max(processShare, 0.02)
        let step = configuration.wanderAdaptationGain * weight * (normalised - 1)
        wander = min(max(wander * exp(step), configuration.wanderLimits.lowerBound),
                     configuration.wanderLimits.upperBound)
    }

    /// The clock was stepped by `amount` seconds (local time jumped forward by it): the offset
    /// to the source shrinks by the same amount and so does the estimate's time stamp.
    mutating func clockStepped(by amount: Double) {
        offset -= amount
        time += amount
        lastSampleTime += amount
        for index in changesSinceLastSample.indices { changesSinceLastSample[index].time += amount }
        for index in pendingJumps.indices { pendingJumps[index] -= amount }
    }

    /// The local clock's frequency correction changed by `change` (s/s, positive = faster):
    /// the offset to the source now drifts that much slower.
    mutating func frequencyChanged(by change: Double, at t: Double) {
        // Bring the estimate to `t` first so the change applies from `t` on.
        let dt = max(0, t - time)
        if dt > 0 {
            let q = wander
            offset += frequency * dt
            p00 += 2 * dt * p01 + dt * dt * p11 + q * dt * dt * dt / 3
            p01 += dt * p11 + q * dt * dt / 2
            p11 += q * dt
            time = t
        }
        frequency -= change
        guard change != 0 else { return }
        if changesSinceLastSample.count >= Self.changesKept {
            // Hundreds of steerings between two samples of one source: the oldest matter least
            // (they are weighed by how long before the newest change the sample was taken).
            changesSinceLastSample.removeFirst()
        }
        changesSinceLastSample.append((time, change))
    }
}
