#if canImport(Glibc)
import Glibc
#endif
import PendulumDiscipline

/// Reads and writes `[clock] drift-file`. The daemon often runs as root, so neither direction
/// follows a symbolic link or opens anything but a regular file: a FIFO planted at the path
/// must not hang the start, and a link at the temporary name must not redirect the write.
struct DriftFileStore: Sendable {
    let path: String

    /// The record, nil when there is no file yet; a file that exists but is not a valid drift
    /// file is an error the caller logs (and then starts without it).
    func load() throws(DriftFileStoreError) -> DriftRecord? {
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { return nil }
            throw .system("open", path: path, errno: errno)
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw .system("fstat", path: path, errno: errno) }
        guard status.st_mode & S_IFMT == S_IFREG else { throw .notRegularFile(path: path) }
        var bytes = [UInt8](repeating: 0, count: 512)
        let count = bytes.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        guard count >= 0 else { throw .system("read", path: path, errno: errno) }
        do {
            return try DriftRecord(parsing: String(decoding: bytes.prefix(count), as: UTF8.self))
        } catch {
            throw .invalid(path: path, error)
        }
    }

    /// Replaces the file whole: a temporary file created afresh (never an existing one, which
    /// may be a planted link), synced, renamed over the old.
    func save(_ record: DriftRecord) throws(DriftFileStoreError) {
        let temporary = path + ".tmp"
        if unlink(temporary) != 0 && errno != ENOENT { throw .system("unlink", path: temporary, errno: errno) }
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .system("create", path: temporary, errno: errno) }
        let bytes = Array(record.text.utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        let synced = fsync(descriptor) == 0
        close(descriptor)
        guard written == bytes.count, synced else {
            unlink(temporary)
            throw .system("write", path: temporary, errno: errno)
        }
        guard rename(temporary, path) == 0 else {
            let error = errno
            unlink(temporary)
            throw .system("rename", path: path, errno: error)
        }
    }
}

enum DriftFileStoreError: Error, Sendable, CustomStringConvertible {
    case system(String, path: String, errno: Int32)
    case notRegularFile(path: String)
    case invalid(path: String, DriftFileError)

    var description: String {
        switch self {
        case .system(let operation, let path, let code):
            "drift file \(path): \(operation): \(String(cString: strerror(code)))"
        case .notRegularFile(let path):
            "drift file \(path) is not a regular file: not read"
        case .invalid(let path, let error):
            "drift file \(path) is not valid (\(error)): starting without it"
        }
    }
}
