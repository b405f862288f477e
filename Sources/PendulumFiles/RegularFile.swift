#if canImport(Glibc)
import Glibc
#endif

/// Reads a small file whole, as a daemon that often runs as root must: opened without blocking
/// (a FIFO or device planted at the path is refused at once instead of hanging the start, and
/// SIGTERM with it), nothing but a regular file, never more than `limit` bytes.
public enum RegularFile {
    /// - Parameter followingLinks: false for files the daemon itself writes, where a symbolic
    ///   link can only have been planted.
    public static func read(path: String, limit: Int, followingLinks: Bool = true) throws(RegularFileError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | (followingLinks ? 0 : O_NOFOLLOW))
        guard descriptor >= 0 else {
            let code = errno
            throw code == ENOENT ? .missing : .system("open", errno: code)
        }
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
        return bytes
    }
}

public enum RegularFileError: Error, Sendable, Hashable, CustomStringConvertible {
    case missing
    case system(String, errno: Int32)
    case notRegularFile
    case tooLarge(size: Int, limit: Int)

    public var description: String {
        switch self {
        case .missing: "no such file"
        case .system(let operation, let code): "\(operation): \(String(cString: strerror(code)))"
        case .notRegularFile: "not a regular file (a FIFO, device or directory): refusing to read it"
        case .tooLarge(let size, let limit): "\(size) bytes, over the limit of \(limit)"
        }
    }
}
