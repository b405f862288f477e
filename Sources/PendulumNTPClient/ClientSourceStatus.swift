import PendulumDiscipline

/// One source as status shows it.
public struct ClientSourceStatus: Sendable, Hashable {
    public var id: SourceID
    public var specification: SourceSpecification
    public var address: ResolvedAddress?
    public var reach: UInt8
    /// The filter's current offset estimate (s, server − local) or, before it has one, the
    /// last sample's.
    public var offsetSeconds: Double?
    public var delaySeconds: Double?
    public var uncertaintySeconds: Double?
    public var pollLog2: Int?
    public var stratum: UInt8?
    public var cookies: Int?
    public var selected: Bool
    public var falseticker: Bool
    public var lastError: String?
    public var interleavedAnswers: Int
}
