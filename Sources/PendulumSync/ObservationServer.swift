#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import NIOConcurrencyHelpers
import PendulumIO

/// Serves the daemon's state on a Unix stream socket: each connection gets one JSON document
/// and is closed. Read-only, so the socket can be group-readable for operators.
package final class ObservationServer: @unchecked Sendable {
    package let path: String
    private let descriptor: Int32
    private let snapshot: @Sendable () -> ObservationSnapshot
    private var thread: DaemonThread?
    private let stopped = NIOLock()
    private var isStopped = false

    package enum Failure: Error, CustomStringConvertible {
        case pathTooLong(String)
        case system(String, Int32)
        /// Something that is not a socket is at the path: a typo in the configuration must not
        /// make a root daemon delete a file.
        case notASocket(String)
        /// The directory could let someone else replace the socket (and answer `pendulum
        /// status` in the daemon's place) or point it elsewhere.
        case unsafeDirectory(String, why: String)

        package var description: String {
            switch self {
            case .pathTooLong(let path): "observation socket path too long: \(path)"
            case .system(let operation, let code): "observation socket: \(operation): \(String(cString: strerror(code)))"
            case .notASocket(let path): "observation socket \(path): something other than a socket is there; refusing to replace it"
            case .unsafeDirectory(let directory, let why): "observation socket directory \(directory): \(why); refusing to put the socket there"
            }
        }
    }

    package init(path: String, snapshot: @escaping @Sendable () -> ObservationSnapshot) throws {
        self.path = path
        self.snapshot = snapshot
        var address = try Self.unixAddress(path)
        let directory = Self.directory(of: path)
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        try Self.checkDirectory(directory)
        // A stale socket from an earlier run goes; anything else stays, and the start fails.
        var existing = stat()
        if lstat(path, &existing) == 0 {
            guard existing.st_mode & S_IFMT == S_IFSOCK else { throw Failure.notASocket(path) }
            unlink(path)
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure.system("socket", errno) }
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            let code = errno
            close(fd)
            throw Failure.system("bind \(path)", code)
        }
        chmod(path, 0o660)
        descriptor = fd
    }

    package func start() throws {
        thread = try DaemonThread(name: "observation") { [self] in serve() }
    }

    private func serve() {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        while true {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, 200)
            if stopped.withLock({ isStopped }) { return }
            guard ready > 0 else { continue }
            let client = accept(descriptor, nil, nil)
            guard client >= 0 else { continue }
            // A reader that stalls must not stall the daemon: bound the write.
            var timeout = timeval(tv_sec: 1, tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            if let data = try? encoder.encode(snapshot()) {
                var bytes = [UInt8](data)
                bytes.append(0x0A)
                var sent = 0
                while sent < bytes.count {
                    let count = bytes[sent...].withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    if count <= 0 { break }
                    sent += count
                }
            }
            close(client)
        }
    }

    /// Idempotent: a second stop must not close a descriptor number someone has since reused.
    package func stop() {
        let wasStopped = stopped.withLock { () -> Bool in
            defer { isStopped = true }
            return isStopped
        }
        guard !wasStopped else { return }
        // The loop looks at the flag at least every 200 ms and a reader gets 1 s at most.
        thread?.join()
        close(descriptor)
        var existing = stat()
        if lstat(path, &existing) == 0, existing.st_mode & S_IFMT == S_IFSOCK { unlink(path) }
    }

    /// "a/b/observe" → "a/b", "/observe" → "/", "observe" → "."
    package static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The socket's directory must be a real directory (not a link) owned by this user or root,
    /// and writable by no one else unless sticky (as /tmp is): otherwise whoever can write it
    /// can swap the socket. /tmp/pendulum-UID made in advance by another user is refused.
    static func checkDirectory(_ directory: String) throws {
        var status = stat()
        guard lstat(directory, &status) == 0 else { throw Failure.system("lstat \(directory)", errno) }
        guard status.st_mode & S_IFMT == S_IFDIR else { throw Failure.unsafeDirectory(directory, why: "not a directory (a symbolic link?)") }
        let owner = status.st_uid
        guard owner == geteuid() || owner == 0 else { throw Failure.unsafeDirectory(directory, why: "owned by uid \(owner), not by this user (uid \(geteuid())) or root") }
        let writableByOthers = status.st_mode & (S_IWGRP | S_IWOTH) != 0
        guard !writableByOthers || status.st_mode & S_ISVTX != 0 else {
            throw Failure.unsafeDirectory(directory, why: "writable by others (mode \(String(status.st_mode & 0o7777, radix: 8))) and not sticky")
        }
    }

    private static func unixAddress(_ path: String) throws -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw Failure.pathTooLong(path) }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
            raw[pathBytes.count] = 0
        }
        return address
    }

    /// Reads one snapshot from a daemon's socket (what `pendulum status` does).
    /// Root's socket when no configuration names one.
    package static let systemPath = "/run/pendulum/observe"

    /// Where a daemon started without a configuration by `userID` puts its socket.
    package static func defaultPath(forUser userID: uid_t) -> String {
        userID == 0 ? systemPath : "/tmp/pendulum-\(userID)/observe"
    }

    package static func read(from path: String, timeout: Double = 2) throws -> Data {
        var address = try Self.unixAddress(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure.system("socket", errno) }
        defer { close(fd) }
        var limit = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else { throw Failure.system("connect \(path)", errno) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count < 0 { throw Failure.system("read \(path)", errno) }
            if count == 0 { break }
            data.append(contentsOf: buffer[0..<count])
            guard data.count < 16 << 20 else { break }
        }
        return data
    }
}
