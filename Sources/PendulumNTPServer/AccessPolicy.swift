/// Who may ask for time. A client is refused when it matches a deny prefix, or when an allow
/// list is set and it matches none of it; deny wins over allow.
public struct AccessPolicy: Sendable, Hashable {
    public enum RefusalAction: String, Sendable, Hashable {
        /// Answer with a DENY kiss (never larger than the request).
        case kiss
        /// Stay silent.
        case drop
    }

    /// Empty: everyone not denied is allowed.
    public var allow: [AddressPrefix]
    public var deny: [AddressPrefix]
    public var refusal: RefusalAction

    public init(allow: [AddressPrefix] = [], deny: [AddressPrefix] = [], refusal: RefusalAction = .kiss) {
        self.allow = allow
        self.deny = deny
        self.refusal = refusal
    }

    public func permits(_ address: [UInt8]) -> Bool {
        if deny.contains(where: { $0.contains(address) }) { return false }
        return allow.isEmpty || allow.contains { $0.contains(address) }
    }

    public func permits(_ address: ClientAddress) -> Bool {
        for prefix in deny where prefix.contains(address) { return false }
        if allow.isEmpty { return true }
        for prefix in allow where prefix.contains(address) { return true }
        return false
    }
}
