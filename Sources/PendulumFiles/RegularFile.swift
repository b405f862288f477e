#if canImport(Glibc)
import Glibc
#endif

/// Files opened as a daemon that often runs as root must: without blocking (a FIFO or device
/// planted at the path is refused at once instead of hanging the start, and SIGTERM with it),
/// and nothing but a regular file.
public enum RegularFile {
    /// Opens `path` with `flags` (O_NONBLOCK and O_CLOEXEC are added, and O_NOFOLLOW unless
    /// `followingLinks`) and returns the descriptor, for the caller to close, with the file's
    /// size; anything but a regular file is closed again and refused.
    /// - Parameter followingLinks: false for files the daemon itself writes, where a symbolic
    ///   link can only have been planted.
    public static func open(path: String, flags: Int32, mode: mode_t = 0, followingLinks: Bool = true) throws(RegularFileError) -> (descriptor: Int32, size: Int) {
        let descriptor = Glibc.open(path, flags | O_NONBLOCK | O_CLOEXEC | (followingLinks ? 0 : O_NOFOLLOW), mode)
        guard descriptor >= 0 else {
            let code = errno
            throw code == ENOENT ? .missing : .system("open", errno: code)
        }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let code = errno
            close(descriptor)
            throw .system("fstat", errno: code)
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            close(descriptor)
            throw .notRegularFile
        }
        return (descriptor, Int(status.st_size))
    }

    /// Reads a small file whole, never more than `limit` bytes.
    public static func read(path: String, limit: Int, followingLinks: Bool = true) throws(RegularFileError) -> [UInt8] {
        let (descriptor, size) = try open(path: path, flags: O_RDONLY, followingLinks: followingLinks)
        defer { close(descriptor) }
        guard size <= limit else { throw .tooLarge(size: size, limit: limit) }
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

    /// The errno behind the error, for callers that report one: ENOENT for a missing file,
    /// EINVAL for one that is not a regular file, EFBIG for one too large.
    public var errnoCode: Int32 {
        switch self {
        case .missing: ENOENT
        case .system(_, let code): code
        case .notRegularFile: EINVAL
        case .tooLarge: EFBIG
        }
    }

    public var description: String {
        switch self {
        case .missing: "no such file"
        case .system(let operation, let code): "\(operation): \(String(cString: strerror(code)))"
        case .notRegularFile: "not a regular file (a FIFO, device or directory): refusing to read it"
        case .tooLarge(let size, let limit): "\(size) bytes, over the limit of \(limit)"
        }
    }
}
