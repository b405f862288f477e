import NIOConcurrencyHelpers

/// Set once to ask the daemon's threads to finish.
package final class StopFlag: Sendable {
    private let box = NIOLockedValueBox(false)
    package init() {}
    package var isSet: Bool { box.withLockedValue { $0 } }
    package func set() { box.withLockedValue { $0 = true } }
}
