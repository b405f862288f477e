#if canImport(Glibc)
import Glibc
#endif

/// Replaces a file whole, so that a crash at any point leaves the old file or the new one: a
/// temporary file in the same directory, synced, renamed over the target, the directory
/// synced. The temporary file is always created afresh (O_EXCL, O_NOFOLLOW): a daemon running
/// as root must never write through a symbolic link someone planted at that name.
public enum AtomicFile {
    public static func replace(path: String, with bytes: [UInt8], mode: mode_t) throws(AtomicFileError) {
        let temporary = path + ".tmp"
        if unlink(temporary) != 0 && errno != ENOENT { throw AtomicFileError(operation: "remove the old", path: temporary, errno: errno) }
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw AtomicFileError(operation: "create", path: temporary, errno: errno) }
        do throws(AtomicFileError) {
            try write(bytes, to: descriptor, mode: mode, temporary: temporary)
        } catch {
            close(descriptor)
            unlink(temporary)
            throw error
        }
        guard close(descriptor) == 0 else {
            let code = errno
            unlink(temporary)
            throw AtomicFileError(operation: "close", path: temporary, errno: code)
        }
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw AtomicFileError(operation: "rename", path: path, errno: code)
        }
        let directory = directoryName(of: path)
        let directoryDescriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directoryDescriptor >= 0 else { throw AtomicFileError(operation: "open directory", path: directory, errno: errno) }
        defer { close(directoryDescriptor) }
        guard fsync(directoryDescriptor) == 0 else { throw AtomicFileError(operation: "fsync directory", path: directory, errno: errno) }
    }

    private static func write(_ bytes: [UInt8], to descriptor: Int32, mode: mode_t, temporary: String) throws(AtomicFileError) {
        // The umask may have taken bits off O_CREAT's mode; never more than asked for.
        guard fchmod(descriptor, mode) == 0 else { throw AtomicFileError(operation: "fchmod", path: temporary, errno: errno) }
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { buffer in
                Glibc.write(descriptor, buffer.baseAddress.map { $0 + written }, buffer.count - written)
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw AtomicFileError(operation: "write", path: temporary, errno: errno)
            }
            written += count
        }
        guard fsync(descriptor) == 0 else { throw AtomicFileError(operation: "fsync", path: temporary, errno: errno) }
    }

    static func directoryName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}

public struct AtomicFileError: Error, Sendable, Hashable {
    public var operation: String
    public var path: String
    public var errno: Int32
}
