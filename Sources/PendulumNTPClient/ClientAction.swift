import PendulumDiscipline
import PendulumNTS
import PendulumTime

/// What the client core asks its shell to do. The shell carries these out in order and
/// reports the results back as events (`transmitted`, `received`, `resolved`, ...).
public enum ClientAction: Sendable, Hashable {
    /// Send a request to the source at this address from a fresh socket (a fresh random source
    /// port per request: an off-path attacker must guess it as well as the nonce), then report
    /// when it left with `transmitted`. Answers on that socket go to `received`.
    case send([UInt8], to: SourceID, address: ResolvedAddress)
    /// Fire `timer` after `delay` (monotonic time: clock steps do not move it), replacing any
    /// earlier setting.
    case setTimer(ClientTimer, after: NTPDuration)
    case cancelTimer(ClientTimer)
    /// Look up a source's NTP host; answer with `resolved` or `resolutionFailed`.
    case resolve(SourceID, host: String, port: UInt16)
    /// Look up a pool's name; answer with `poolResolved` or `poolResolutionFailed`.
    case resolvePool(Int, host: String, port: UInt16)
    /// Run NTS-KE, judging the certificate's validity period as `certificateTime` says; answer
    /// with `keyExchangeCompleted` or `keyExchangeFailed`.
    case runKeyExchange(SourceID, host: String, port: UInt16, caFile: String?, certificateTime: CertificateTimeCheck)
    /// The source is gone: its socket may be closed and its timers are void.
    case forget(SourceID)
    /// Steer the clock.
    case steer(ClockAction)
    /// Tell the kernel (or the overlay) whether the clock is synchronised and how wrong it may be.
    case setSynchronized(Bool, maximumError: NTPDuration, estimatedError: NTPDuration)
    /// Something the discipline reported, for embedders that count them (the simulator).
    case observed(DisciplineEvent)
    case log(ClientLogLevel, String)
}
