import Crypto
#if canImport(Glibc)
import Glibc
#endif
import PendulumDiscipline

/// Reads `[clock] leap-seconds-file` (tzdata's /usr/share/zoneinfo/leap-seconds.list by
/// default) and checks its SHA-1, which IERS publishes in the file so that a damaged copy is
/// noticed. The hash only guards against damage, not forgery: SHA-1 is what the format uses.
enum LeapSecondsFile {
    static let tzdataPath = "/usr/share/zoneinfo/leap-seconds.list"

    static func load(path: String) throws(LeapSecondsFileError) -> LeapSecondTable {
        // Not a FIFO or a device: open without blocking, then insist on a regular file.
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { throw .system("open", path: path, errno: errno) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw .system("fstat", path: path, errno: errno) }
        guard status.st_mode & S_IFMT == S_IFREG else { throw .notRegularFile(path: path) }
        var bytes = [UInt8](repeating: 0, count: LeapSecondsList.maximumSize + 1)
        var filled = 0
        while filled < bytes.count {
            let count = bytes.withUnsafeMutableBytes { read(descriptor, $0.baseAddress.map { $0 + filled }, $0.count - filled) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw .system("read", path: path, errno: errno) }
            if count == 0 { break }
            filled += count
        }
        do throws(LeapSecondsListError) {
            let list = try LeapSecondsList(parsing: String(decoding: bytes.prefix(filled), as: UTF8.self))
            if let declared = list.declaredHash, Array(Insecure.SHA1.hash(data: Array(list.hashedText.utf8))) != declared {
                throw LeapSecondsListError.hashMismatch
            }
            return list.table
        } catch {
            throw .invalid(path: path, error)
        }
    }
}

enum LeapSecondsFileError: Error, Sendable, CustomStringConvertible {
    case system(String, path: String, errno: Int32)
    case notRegularFile(path: String)
    case invalid(path: String, LeapSecondsListError)

    var description: String {
        switch self {
        case .system(let operation, let path, let code): "\(path): \(operation): \(String(cString: strerror(code)))"
        case .notRegularFile(let path): "\(path): not a regular file"
        case .invalid(let path, let error): "\(path): \(error)"
        }
    }

    var isMissing: Bool {
        if case .system("open", _, ENOENT) = self { true } else { false }
    }
}
