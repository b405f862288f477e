#if canImport(Glibc)
import Glibc
#endif

/// Reads a small text file whole. It is opened without blocking and must be a regular file, so
/// a FIFO or a device planted at the path is refused at once instead of hanging the start.
enum TextFile {
    static let defaultLimit = 1 << 20

    static func read(path: String, limit: Int = defaultLimit) throws(TextFileError) -> String {
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { throw .system("open", errno: errno) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw .system("fstat", errno: errno) }
        guard status.st_mode & S_IFMT == S_IFREG else { throw .notRegularFile }
        guard status.st_size <= limit else { throw .tooLarge(size: Int(status.st_size), limit: limit) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw .system("read", errno: errno) }
            if count == 0 { break }
            bytes += chunk.prefix(count)
            // The file may have grown since fstat.
            guard bytes.count <= limit else { throw .tooLarge(size: bytes.count, limit: limit) }
        }
        return String(decoding: bytes, as: UTF8.self)
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
