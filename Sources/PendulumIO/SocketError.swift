import Glibc

/// A failed socket or clock operation, with the errno the kernel gave.
public struct SystemCallError: Error, Sendable, Hashable, CustomStringConvertible {
    public var operation: String
    public var code: Int32

    public init(_ operation: String, code: Int32 = errno) {
        self.operation = operation
        self.code = code
    }

    public var description: String {
        "\(operation): \(String(cString: strerror(code)))"
    }

    public var isConnectionRefused: Bool { code == ECONNREFUSED }
}
