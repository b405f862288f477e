import Crypto
#if canImport(Glibc)
import Glibc
#endif
import PendulumDiscipline
import PendulumFiles

/// Reads `[clock] leap-seconds-file` (tzdata's /usr/share/zoneinfo/leap-seconds.list by
/// default) and checks its SHA-1, which IERS publishes in the file so that a damaged copy is
/// noticed. The hash only guards against damage, not forgery: SHA-1 is what the format uses.
enum LeapSecondsFile {
    static let tzdataPath = "/usr/share/zoneinfo/leap-seconds.list"

    static func load(path: String) throws(LeapSecondsFileError) -> LeapSecondTable {
        let bytes: [UInt8]
        do {
            bytes = try RegularFile.read(path: path, limit: LeapSecondsList.maximumSize)
        } catch {
            switch error {
            case .missing: throw .system("open", path: path, errno: ENOENT)
            case .system(let operation, let code): throw .system(operation, path: path, errno: code)
            case .notRegularFile: throw .notRegularFile(path: path)
            case .tooLarge(let size, _): throw .invalid(path: path, .tooLarge(size))
            }
        }
        do throws(LeapSecondsListError) {
            let list = try LeapSecondsList(parsing: String(decoding: bytes, as: UTF8.self))
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
