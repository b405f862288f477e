import PendulumDiscipline
import PendulumNTP
import PendulumNTPServer
import PendulumTime

/// What the server announces, derived from the discipline's view of its sources (RFC 5905
/// §9): stratum one below the selected source, its refid, root delay and dispersion grown by
/// the frequency tolerance since the clock was last updated. With no synchronised sources it
/// falls back to `local-stratum` when configured, else says LI 3 / stratum 16.
enum ServedClockState {
    /// RFC 5905's PHI: how fast the error of an undisciplined clock is assumed to grow, s/s.
    static let frequencyTolerance = 15e-6

    static func make(system: SystemState, lastUpdate: UnixTime?, now: UnixTime, localStratum: UInt8?) -> ServerClockState {
        guard system.synchronized, let lastUpdate else {
            return localStratum.map { ServerClockState.local(stratum: $0) } ?? .unsynchronized()
        }
        let age = max(0, (now - lastUpdate).seconds)
        return ServerClockState(
            leap: system.leap,
            stratum: system.stratum,
            referenceID: ReferenceID(rawValue: system.referenceID),
            referenceTimestamp: NTPTimestamp(lastUpdate),
            rootDelay: NTPShort(roundingUp: NTPDuration(approximateSeconds: system.rootDelay)),
            rootDispersion: NTPShort(roundingUp: NTPDuration(approximateSeconds: system.rootDispersion + frequencyTolerance * age)),
            precision: -20,
            isSynchronized: true
        )
    }
}
