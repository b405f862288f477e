import Logging
import Synchronization
import PendulumClientEngine

/// Writes the drift file hourly while synchronised and once at stop, as chrony does: often
/// enough that a crash loses little, rarely enough not to wear flash storage.
final class DriftKeeper: Sendable {
    static let savePeriodSeconds = 3600

    private let store: DriftFileStore?
    private let engine: SynchronizationEngine?
    private let logger: Logger
    private let secondsSinceSave = Mutex(0)

    init(store: DriftFileStore?, engine: SynchronizationEngine?, logger: Logger) {
        self.store = store
        self.engine = engine
        self.logger = logger
    }

    /// Called once a second by the engine's loop.
    func tick() {
        guard store != nil else { return }
        let due = secondsSinceSave.withLock { seconds in
            seconds += 1
            return seconds >= Self.savePeriodSeconds
        }
        if due { save(reason: "hourly") }
    }

    func save(reason: String) {
        guard let store, let record = engine?.frequencyEstimate else { return }
        secondsSinceSave.withLock { $0 = 0 }
        do {
            try store.save(record)
            logger.info("drift file \(store.path) written (\(reason)): \(record.frequency * 1e6) ppm")
        } catch {
            logger.warning("\(error)")
        }
    }
}
