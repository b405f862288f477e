/// A parsed TOML value with the line it was written on, so a configuration error can point at
/// the exact line of the offending value, not just the key's first mention.
public struct TOMLNode: Sendable, Hashable {
    public enum Value: Sendable, Hashable {
        case string(String)
        case integer(Int64)
        case float(Double)
        case boolean(Bool)
        case array([TOMLNode])
        case table(TOMLTable)
    }

    public var value: Value
    /// 1-based line of the value (for a table: of its header or first key).
    public var line: Int

    public init(_ value: Value, line: Int) {
        self.value = value
        self.line = line
    }

    public var string: String? { if case .string(let text) = value { text } else { nil } }
    public var integer: Int64? { if case .integer(let number) = value { number } else { nil } }
    public var int: Int? { integer.flatMap { Int(exactly: $0) } }
    /// A float, or an integer read as one (TOML writes `1` and `1.0` differently).
    public var double: Double? {
        switch value {
        case .float(let number): number
        case .integer(let number): Double(number)
        default: nil
        }
    }
    public var bool: Bool? { if case .boolean(let flag) = value { flag } else { nil } }
    public var array: [TOMLNode]? { if case .array(let elements) = value { elements } else { nil } }
    public var table: TOMLTable? { if case .table(let table) = value { table } else { nil } }

    /// What the value is, for "expected a string, found an integer" messages.
    public var kindName: String {
        switch value {
        case .string: "a string"
        case .integer: "an integer"
        case .float: "a float"
        case .boolean: "a boolean"
        case .array: "an array"
        case .table: "a table"
        }
    }
}

/// A TOML table: keys in the order they were written.
public struct TOMLTable: Sendable, Hashable {
    public private(set) var keys: [String] = []
    private var nodes: [String: TOMLNode] = [:]
    /// Written with `[name]` or `[[name]]` (explicitly), as opposed to implied by a dotted name.
    var isExplicit = false
    /// Created by `a.b = …`: may be extended by more dotted keys, never reopened by a header.
    var isDottedKeyTable = false
    /// An inline table inside a static array (`a = [{…}]`): `[[a]]` may not extend that array.
    var isInlineArrayElement = false

    public init() {}

    public subscript(key: String) -> TOMLNode? {
        get { nodes[key] }
        set {
            if let newValue {
                if nodes[key] == nil { keys.append(key) }
                nodes[key] = newValue
            } else if nodes.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }
}
