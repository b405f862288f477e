/// How much an operator needs to hear a client core message; maps onto swift-log's levels.
public enum ClientLogLevel: Sendable, Hashable, Comparable {
    case debug, info, notice, warning, error
}
