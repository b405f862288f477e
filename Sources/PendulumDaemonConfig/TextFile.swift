#if canImport(Glibc)
import Glibc
#endif
import PendulumFiles

/// Reads a configuration file whole through `RegularFile`: a FIFO or a device planted at the
/// path is refused at once instead of hanging the start.
enum TextFile {
    static let defaultLimit = 1 << 20

    static func read(path: String, limit: Int = defaultLimit) throws(TextFileError) -> String {
        do {
            return String(decoding: try RegularFile.read(path: path, limit: limit), as: UTF8.self)
        } catch {
            switch error {
            case .missing: throw .system("open", errno: ENOENT)
            case .system(let operation, let code): throw .system(operation, errno: code)
            case .notRegularFile: throw .notRegularFile
            case .tooLarge(let size, let limit): throw .tooLarge(size: size, limit: limit)
            }
        }
    }
}

enum TextFileError: Error, Sendable, CustomStringConvertible {
    case system(String, errno: Int32)
    case notRegularFile
    case tooLarge(size: Int, limit: Int)

    var description: String {
        switch self {
        case .system(let operation, let code): "cannot read the file: \(operation): \(String(cString: strerror(code)))"
        case .notRegularFile: "not a regular file (a FIFO, device or directory): refusing to read it"
        case .tooLarge(let size, let limit): "\(size) bytes: larger than the \(limit / 1024) KiB a configuration may have"
        }
    }
}
