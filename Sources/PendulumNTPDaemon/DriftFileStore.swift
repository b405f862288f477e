#if canImport(Glibc)
import Glibc
#endif
import PendulumDiscipline
import PendulumFiles

/// Reads and writes `[clock] drift-file`. The daemon often runs as root, so neither direction
/// follows a symbolic link or opens anything but a regular file: a FIFO planted at the path
/// must not hang the start, and a link at the temporary name must not redirect the write.
struct DriftFileStore: Sendable {
    let path: String

    /// The record, nil when there is no file yet; a file that exists but is not a valid drift
    /// file is an error the caller logs (and then starts without it).
    func load() throws(DriftFileStoreError) -> DriftRecord? {
        let bytes: [UInt8]
        do {
            bytes = try RegularFile.read(path: path, limit: DriftFileStore.maximumSize, followingLinks: false)
        } catch {
            switch error {
            case .missing: return nil
            case .system(let operation, let code): throw .system(operation, path: path, errno: code)
            case .notRegularFile: throw .notRegularFile(path: path)
            case .tooLarge(let size, _): throw .invalid(path: path, .tooLong(size))
            }
        }
        do {
            return try DriftRecord(parsing: String(decoding: bytes, as: UTF8.self))
        } catch {
            throw .invalid(path: path, error)
        }
    }

    /// Replaces the file whole with `AtomicFile` (a temporary file created afresh, never a
    /// planted link; synced; renamed over the old).
    func save(_ record: DriftRecord) throws(DriftFileStoreError) {
        do {
            try AtomicFile.replace(path: path, with: Array(record.text.utf8), mode: 0o644)
        } catch {
            throw .system(error.operation, path: error.path, errno: error.errno)
        }
    }

    /// A drift file is one short line.
    static let maximumSize = 512
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
