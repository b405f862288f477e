import PendulumIO
import PendulumNTP

extension ObservationSnapshot {
    /// The status of a daemon without sources: what it serves, and its clock.
    package static func serverOnly(
        synchronized: Bool, stratum: UInt8, referenceID: UInt32, leap: UInt8, clock status: ClockStatus
    ) -> ObservationSnapshot {
        ObservationSnapshot(
            system: System(
                synchronized: synchronized, stratum: synchronized ? stratum : 16,
                referenceID: ReferenceID(rawValue: referenceID).hex, leap: synchronized ? leap : 3,
                offsetSeconds: 0, uncertaintySeconds: 0, rootDelaySeconds: 0, rootDispersionSeconds: 0,
                frequencyPPM: status.frequencyPPM
            ),
            clock: Clock(kind: status.kind.rawValue, offsetFromSystemSeconds: status.offsetFromSystem?.seconds, frequencyPPM: status.frequencyPPM),
            sources: [], servers: []
        )
    }
}
