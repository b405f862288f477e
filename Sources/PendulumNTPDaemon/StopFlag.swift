import NIOConcurrencyHelpers

/// Set once to ask the daemon's threads to finish.
public final class StopFlag: Sendable {
    private let box = NIOLockedValueBox(false)
    public init() {}
    public var isSet: Bool { box.withLockedValue { $0 } }
    public func set() { box.withLockedValue { $0 = true } }
}
