import PendulumDiscipline
import PendulumPTP
import PendulumTime

/// The servo of pendulum-ptpd: the clock-discipline core's Kalman filter with one source (the
/// parent), fed one sample per Sync. The PTP core already removed the path delay; the filter
/// gets the resulting offset with the round trip (twice the mean path delay) as the sample's
/// delay, and turns them into steps and frequency corrections.
struct PTPServo: Sendable {
    private static let parent = SourceID(0)
    private let configuration: DisciplineConfiguration
    private(set) var discipline: ClockDiscipline

    init(logSyncInterval: Int8, stepThreshold: Double?, firstStepThreshold: Double?) {
        var configuration = DisciplineConfiguration()
        let log = Int(logSyncInterval)
        configuration.pollLimits = log...log
        configuration.burstCount = 0
        configuration.startupStepThreshold = firstStepThreshold
        configuration.stepThreshold = stepThreshold
        configuration.panicThreshold = nil
        configuration.startupPanicThreshold = nil
        // Sync messages come every second or faster: remove an offset within seconds, not the
        // minutes an NTP poll interval would suggest.
        configuration.minimumSlewTime = 4
        self.configuration = configuration
        discipline = ClockDiscipline(configuration: configuration)
        discipline.addSource(Self.parent)
    }

    /// A new parent (or none): its samples do not continue the old ones.
    mutating func restart() {
        discipline = ClockDiscipline(configuration: configuration)
        discipline.addSource(Self.parent)
    }

    /// One offset sample; `localTime` is the Sync's ingress time as the steered clock read it.
    mutating func handle(_ measurement: PTPMeasurement, localTime: UnixTime) -> DisciplineUpdate {
        let offset: NTPDuration
        if measurement.exceedsIntervalRange {
            offset = .nanoseconds(0 &- max(measurement.offsetFromMasterNanoseconds, .min + 1))
        } else {
            offset = (-measurement.offsetFromMaster).ntpDuration
        }
        let roundTrip = measurement.meanPathDelay.isSaturated || measurement.meanPathDelay < .zero
            ? NTPDuration.zero : (measurement.meanPathDelay + measurement.meanPathDelay).ntpDuration
        let sample = Measurement(offset: offset, delay: roundTrip, localTime: NTPTimestamp(localTime), stratum: 1, leap: .none)
        return discipline.handle(sample, from: Self.parent)
    }

    /// The frequency correction the filter currently estimates (s/s), for the summary line.
    var frequencyEstimate: Double? { discipline.filter(for: Self.parent)?.frequency }
}
