// The only file in this module that touches the operating system: loading and atomically
// saving the cookie keyset. Everything it reads or writes goes through the pure
// `CookieKeyset.serialized()` / `init(serialized:)`.
#if canImport(Glibc)
import Glibc

/// Why the key file could not be used.
public enum KeysetFileError: Error, Sendable, Hashable {
    /// A system call failed; `errno` and the operation that failed.
    case system(operation: String, path: String, errno: Int32)
    /// The file exists but is not a valid keyset. It is left untouched.
    case corrupt(path: String, KeysetDecodingError)
    /// Something other than a regular file is at the path (a FIFO would hang the start).
    case notRegularFile(path: String)
}

extension KeysetFileError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .system(let operation, let path, let code):
            "key file \(path): \(operation) failed: \(String(cString: strerror(code)))"
        case .corrupt(let path, let reason):
            "key file \(path) is corrupt (\(reason)); refusing to replace it, move it away to start with new keys"
        case .notRegularFile(let path):
            "key file \(path) is not a regular file (a FIFO, device or directory): refusing to use it"
        }
    }
}

public enum KeysetFile {
    static let maximumFileByteCount = 1 << 20

    /// Loads the keyset, or returns nil when the file does not exist. Any other failure,
    /// including a corrupt file, throws.
    public static func load(path: String) throws(KeysetFileError) -> CookieKeyset? {
        // Without blocking: a FIFO at the path must not hang the start (and with it SIGTERM).
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        if descriptor < 0 {
            let code = errno
            if code == ENOENT { return nil }
            throw .system(operation: "open", path: path, errno: code)
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw .system(operation: "fstat", path: path, errno: errno) }
        guard status.st_mode & S_IFMT == S_IFREG else { throw .notRegularFile(path: path) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .system(operation: "read", path: path, errno: errno)
            }
            if count == 0 { break }
            bytes += chunk.prefix(count)
            guard bytes.count <= maximumFileByteCount else { throw .corrupt(path: path, .trailingBytes(count: bytes.count)) }
        }
        do {
            return try CookieKeyset(serialized: bytes)
        } catch {
            throw .corrupt(path: path, error)
        }
    }

    /// Writes the keyset so that a crash at any point leaves either the old file or the new
    /// one: a temporary file (mode 0600) in the same directory, fsync, rename over the
    /// target, fsync of the directory. The temporary file is always created afresh (O_EXCL,
    /// O_NOFOLLOW): a daemon running as root must never write its master keys through a
    /// symbolic link someone planted at that name.
    public static func save(_ keyset: CookieKeyset, path: String) throws(KeysetFileError) {
        let temporary = path + ".tmp"
        if unlink(temporary) != 0 && errno != ENOENT { throw .system(operation: "remove the old", path: temporary, errno: errno) }
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .system(operation: "create", path: temporary, errno: errno) }
        var closed = false
        defer { if !closed { close(descriptor) } }
        // The umask may have taken bits off O_CREAT's mode; never more than the owner's.
        guard fchmod(descriptor, 0o600) == 0 else { throw .system(operation: "fchmod", path: temporary, errno: errno) }
        let bytes = keyset.serialized()
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { buffer in
                write(descriptor, buffer.baseAddress.map { $0 + written }, buffer.count - written)
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw .system(operation: "write", path: temporary, errno: errno)
            }
            written += count
        }
        guard fsync(descriptor) == 0 else { throw .system(operation: "fsync", path: temporary, errno: errno) }
        closed = true
        guard close(descriptor) == 0 else { throw .system(operation: "close", path: temporary, errno: errno) }
        guard rename(temporary, path) == 0 else { throw .system(operation: "rename", path: path, errno: errno) }
        let directory = directoryName(of: path)
        let directoryDescriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directoryDescriptor >= 0 else { throw .system(operation: "open directory", path: directory, errno: errno) }
        defer { close(directoryDescriptor) }
        guard fsync(directoryDescriptor) == 0 else { throw .system(operation: "fsync directory", path: directory, errno: errno) }
    }

    /// Loads the keyset, or creates, saves and returns a new one when there is no file yet.
    /// Also rotates (and saves) when the loaded current key is due.
    public static func loadOrCreate(path: String, now: Int64, random: inout some NTSRandomSource,
                                    staleKeyLimit: Int = CookieKeyset.defaultStaleKeyLimit,
                                    rotationPeriod: Int64 = CookieKeyset.defaultRotationPeriod) throws(KeysetFileError) -> CookieKeyset {
        if var keyset = try load(path: path) {
            keyset.staleKeyLimit = staleKeyLimit
            keyset.rotationPeriod = rotationPeriod
            if keyset.rotateIfDue(now: now, random: &random) { try save(keyset, path: path) }
            return keyset
        }
        let keyset = CookieKeyset.generate(now: now, random: &random, staleKeyLimit: staleKeyLimit, rotationPeriod: rotationPeriod)
        try save(keyset, path: path)
        return keyset
    }

    static func directoryName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let directory = String(path[..<slash])
        return directory.isEmpty ? "/" : directory
    }
}
#endif
