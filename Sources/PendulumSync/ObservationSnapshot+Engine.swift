import PendulumClientEngine
import PendulumNTP

extension SynchronizationEngine {
    /// A consistent picture of the engine for status, metrics and serving.
    package func snapshot() -> ObservationSnapshot {
        let status = clock.status
        let (system, sources) = statuses()
        return ObservationSnapshot(
            system: .init(
                synchronized: system.synchronized, stratum: system.stratum,
                referenceID: ReferenceID(rawValue: system.referenceID).hex, leap: system.leap.rawValue,
                offsetSeconds: system.offset, uncertaintySeconds: system.uncertainty,
                rootDelaySeconds: system.rootDelay, rootDispersionSeconds: system.rootDispersion,
                frequencyPPM: system.frequencyCorrection * 1e6
            ),
            clock: .init(kind: status.kind.rawValue, offsetFromSystemSeconds: status.offsetFromSystem?.seconds, frequencyPPM: status.frequencyPPM),
            sources: sources.map { source in
                ObservationSnapshot.Source(
                    name: source.specification.displayAddress, address: source.address?.description,
                    mode: source.specification.mode.rawValue, reachable: source.reach != 0, reach: source.reach,
                    offsetSeconds: source.offsetSeconds, delaySeconds: source.delaySeconds,
                    uncertaintySeconds: source.uncertaintySeconds, poll: source.pollLog2, stratum: source.stratum,
                    nts: source.specification.mode == .nts, cookies: source.cookies,
                    selected: source.selected, falseticker: source.falseticker,
                    lastError: source.lastError, pool: source.specification.poolName
                )
            },
            servers: []
        )
    }
}
