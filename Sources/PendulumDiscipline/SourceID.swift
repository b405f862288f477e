/// Identifies a source to the discipline; the daemon chooses the values (e.g. an index into
/// its own table) and maps them back.
public struct SourceID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var rawValue: Int
    public init(_ rawValue: Int) { self.rawValue = rawValue }
    public static func < (lhs: SourceID, rhs: SourceID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { "source \(rawValue)" }
}
