import PendulumIO
import PendulumNTP
import PendulumTime

/// What one server said: its least-delayed answer, how that was measured and, with NTS, what
/// the session holds. The evidence behind a `SecureTimeReading`.
public struct ServerMeasurement: Sendable, Hashable {
    public var server: TimeServer
    /// The address that answered (NTS: the one the NTS-KE server named).
    public var address: String
    public var port: UInt16
    /// The server's clock minus ours, and the round trip, of the least-delayed answer.
    public var offset: NTPDuration
    public var delay: NTPDuration
    /// Largest minus smallest offset over all answers.
    public var offsetSpread: NTPDuration
    public var samples: Int
    /// Replies that did not answer our requests (or failed authentication) and were dropped.
    public var ignoredReplies: Int
    /// Whether every counted answer was NTS-authenticated.
    public var authenticated: Bool
    /// The answer's header: stratum, leap, reference id, root delay and dispersion, precision.
    public var header: NTPHeader
    /// With NTS: the AEAD algorithm negotiated and the cookies left after the query.
    public var aead: UInt16?
    public var cookies: Int?
    /// Where the least-delayed answer's timestamps were taken ("kernel", "hardware", "user").
    public var transmitTimestampSource: String
    public var receiveTimestampSource: String

    init(server: TimeServer, outcome: NTPQuery.Outcome, best: NTPQuery.Sample) {
        self.server = server
        address = outcome.address.ipString
        port = outcome.address.port
        offset = best.measurement.offset
        delay = best.measurement.delay
        offsetSpread = outcome.offsetSpread
        samples = outcome.measurements.count
        ignoredReplies = outcome.ignoredReplies
        authenticated = outcome.nts != nil
        header = best.measurement.header
        aead = outcome.nts?.aead.rawValue
        cookies = outcome.nts?.jar.count
        transmitTimestampSource = best.transmitSource.rawValue
        receiveTimestampSource = best.receiveSource.rawValue
    }

    /// How far from `offset` the true offset can be, if the server's own time is right within
    /// what it says: half the round trip, the server's root delay and dispersion, its
    /// precision, and 15 ppm of frequency error on both sides over the round trip (RFC 5905's
    /// PHI). Integer throughout; saturates rather than overflows on absurd headers.
    public var correctnessHalfWidth: NTPDuration { Self.halfWidth(header: header, delay: delay) }

    static func halfWidth(header: NTPHeader, delay: NTPDuration) -> NTPDuration {
        let exponent = 32 + Int(header.precision)
        let precision = exponent < 0 ? NTPDuration.zero : exponent > 62 ? NTPDuration.max : NTPDuration(rawValue: 1 << exponent)
        let frequency = NTPDuration(rawValue: delay.magnitude.rawValue / 1_000_000 * 15)
        return [delay.magnitude.halved, header.rootDelay.duration.halved, header.rootDispersion.duration, precision, frequency]
            .reduce(.zero, +)
    }
}
