import PendulumDiscipline
import PendulumTime

/// What one poll of a source came to.
enum SourceOutcome: Sendable, Hashable {
    /// `receivedAt`: when the answer arrived (steered clock); later than the measurement's own
    /// time when the answer was interleaved. `unusable`: the source answered, but the sample
    /// must not be used: the clock was stepped while the request was out (its timestamps are
    /// on two time scales), or it measures an exchange already measured.
    case measurement(Measurement, receivedAt: NTPTimestamp, unusable: Bool)
    case noReply
    case kissOfDeath(String)
    case ntsNAK
    case failed(String)

    var description: String {
        switch self {
        case .measurement: "ok"
        case .noReply: "no reply"
        case .kissOfDeath(let code): "kiss-o'-death \(code)"
        case .ntsNAK: "NTS NAK"
        case .failed(let reason): reason
        }
    }
}
