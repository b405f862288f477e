/// The client's stash of cookies for one server (RFC 8915 §5.7): each cookie is sent once,
/// the newest are kept, and the request asks for as many as it takes to refill the jar.
public struct NTSCookieJar: Sendable, Hashable {
    public static let defaultCapacity = 8
    public let capacity: Int
    private var cookies: [[UInt8]] = []

    public init(capacity: Int = defaultCapacity, cookies: [[UInt8]] = []) {
        self.capacity = max(1, capacity)
        add(cookies)
    }

    public var count: Int { cookies.count }
    public var isEmpty: Bool { cookies.isEmpty }

    /// Removes and returns the oldest cookie: it must never be sent twice.
    public mutating func take() -> [UInt8]? {
        cookies.isEmpty ? nil : cookies.removeFirst()
    }

    /// Keeps the newest `capacity` cookies.
    public mutating func add(_ new: [[UInt8]]) {
        cookies += new.filter { !$0.isEmpty }
        if cookies.count > capacity { cookies.removeFirst(cookies.count - capacity) }
    }

    public mutating func removeAll() { cookies.removeAll() }

    /// Placeholders to send with the next request so the jar is full again after the response
    /// (the cookie sent brings one back by itself). At most 7 per RFC 8915.
    public var placeholdersWanted: Int {
        min(7, max(0, capacity - cookies.count))
    }
}
