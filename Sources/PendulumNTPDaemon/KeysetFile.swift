// Loading and atomically saving the NTS server's cookie keyset: the daemon's side, so that
// PendulumNTS itself reads and writes no files. Everything goes through the pure
// `CookieKeyset.serialized()` / `init(serialized:)`.
#if canImport(Glibc)
import Glibc
import PendulumFiles
import PendulumNTS

/// Why the key file could not be used.
package enum KeysetFileError: Error, Sendable, Hashable {
    /// A system call failed; `errno` and the operation that failed.
    case system(operation: String, path: String, errno: Int32)
    /// The file exists but is not a valid keyset. It is left untouched.
    case corrupt(path: String, KeysetDecodingError)
    /// Something other than a regular file is at the path (a FIFO would hang the start).
    case notRegularFile(path: String)
}

extension KeysetFileError: CustomStringConvertible {
    package var description: String {
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

package enum KeysetFile {
    static let maximumFileByteCount = 1 << 20

    /// Loads the keyset, or returns nil when the file does not exist. Any other failure,
    /// including a corrupt file, throws.
    package static func load(path: String) throws(KeysetFileError) -> CookieKeyset? {
        let bytes: [UInt8]
        do {
            bytes = try RegularFile.read(path: path, limit: maximumFileByteCount)
        } catch {
            switch error {
            case .missing: return nil
            case .system(let operation, let code): throw .system(operation: operation, path: path, errno: code)
            case .notRegularFile: throw .notRegularFile(path: path)
            case .tooLarge(let size, _): throw .corrupt(path: path, .trailingBytes(count: size))
            }
        }
        do {
            return try CookieKeyset(serialized: bytes)
        } catch {
            throw .corrupt(path: path, error)
        }
    }

    /// Writes the keyset (mode 0600) with `AtomicFile`: a crash at any point leaves the old
    /// file or the new one, and the master keys are never written through a planted link.
    package static func save(_ keyset: CookieKeyset, path: String) throws(KeysetFileError) {
        do {
            try AtomicFile.replace(path: path, with: keyset.serialized(), mode: 0o600)
        } catch {
            throw .system(operation: error.operation, path: error.path, errno: error.errno)
        }
    }

    /// Loads the keyset, or creates, saves and returns a new one when there is no file yet.
    /// Also rotates (and saves) when the loaded current key is due.
    package static func loadOrCreate(path: String, now: Int64, random: inout some NTSRandomSource,
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
}
#endif
