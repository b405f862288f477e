/// A configuration problem, printed as one line naming the file, the line when known, and the
/// key.
public struct ConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    /// The dotted key path, e.g. "server[0].listen"; empty for whole-file problems.
    public var key: String
    public var message: String

    public init(file: String, line: Int?, key: String, message: String) {
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }

    public var description: String {
        let location = line.map { "\(file):\($0)" } ?? file
        return key.isEmpty ? "\(location): \(message)" : "\(location): \(key): \(message)"
    }
}
