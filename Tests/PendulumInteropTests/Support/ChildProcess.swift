import Foundation

/// A program the tests start, with its output collected and a hard deadline so no test can hang.
///
/// Started with posix_spawn and watched with waitpid, not with Foundation's `Process`: that one
/// watches pipes and child exits through libdispatch, and with several children running at once
/// (the PTP contests start theirs concurrently) the test runner crashed inside libdispatch twice.
/// Output goes to unlinked temporary files, so nothing has to drain a pipe while the child runs
/// and a grandchild that keeps the descriptor cannot make us wait.
final class ChildProcess: @unchecked Sendable {
    let process: SpawnedProcess
    private let executable: String
    private let arguments: [String]
    private let outputFile: CapturedOutput
    private let errorFile: CapturedOutput

    init(_ executable: String, _ arguments: [String]) {
        self.executable = executable
        self.arguments = arguments
        outputFile = CapturedOutput()
        errorFile = CapturedOutput()
        process = SpawnedProcess()
    }

    func start() throws {
        try process.spawn(executable, arguments, standardOutput: try outputFile.descriptor(), standardError: try errorFile.descriptor())
    }

    /// Waits for exit; terminates (then kills) the process if it outlives `timeout`.
    @discardableResult
    func wait(timeout: TimeInterval) -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { stop() }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// SIGTERM, then SIGKILL after a moment.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(1)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    var standardOutput: String { outputFile.text }
    var standardError: String { errorFile.text }

    /// Runs to completion and returns status and output.
    static func run(_ executable: String, _ arguments: [String], timeout: TimeInterval = 30) throws -> (status: Int32, stdout: String, stderr: String) {
        let child = ChildProcess(executable, arguments)
        try child.start()
        let status = child.wait(timeout: timeout)
        return (status, child.standardOutput, child.standardError)
    }
}

/// One child's life: spawned once, reaped once, its status kept. The names follow Foundation's
/// `Process` (isRunning, processIdentifier, terminationStatus) so tests read the same.
final class SpawnedProcess: @unchecked Sendable {
    private let lock = NSLock()
    private var pid: pid_t = 0
    private var exitStatus: Int32?

    var processIdentifier: Int32 { lock.lock(); defer { lock.unlock() }; return pid }

    /// glibc's posix_spawn_file_actions_addclosefrom_np (2.34 and later); Swift's Glibc module
    /// does not declare it (it sits behind _GNU_SOURCE), so it is looked up by name.
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private static let closeFrom: AddCloseFrom? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: AddCloseFrom.self)
    }()

    func spawn(_ executable: String, _ arguments: [String], standardOutput: Int32, standardError: Int32) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, standardOutput, 1)
        posix_spawn_file_actions_adddup2(&actions, standardError, 2)
        // Sockets and files the test holds stay the test's: a child holding a bound port
        // would keep it after the test closed its own copy.
        _ = Self.closeFrom?(&actions, 3)

        // The test runner blocks SIGTERM and SIGINT in its threads and a spawned child would
        // inherit that mask (peers such as chronyd then ignore a polite stop): the child starts
        // with nothing blocked and every signal at its default.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var nothingBlocked = sigset_t()
        sigemptyset(&nothingBlocked)
        var everySignal = sigset_t()
        sigfillset(&everySignal)
        posix_spawnattr_setsigmask(&attributes, &nothingBlocked)
        posix_spawnattr_setsigdefault(&attributes, &everySignal)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var child: pid_t = 0
        let result = posix_spawn(&child, executable, &actions, &attributes, argv, environ)
        guard result == 0 else {
            throw SpawnFailure(executable: executable, reason: Self.describe(result))
        }
        lock.lock(); pid = child; lock.unlock()
    }

    /// Reaps the child if it has exited; never blocks.
    var isRunning: Bool {
        lock.lock(); defer { lock.unlock() }
        guard pid > 0, exitStatus == nil else { return false }
        var status: Int32 = 0
        let reaped = waitpid(pid, &status, WNOHANG)
        if reaped == pid || (reaped < 0 && errno == ECHILD) {
            exitStatus = Self.decode(status)
            return false
        }
        return true
    }

    func terminate() {
        if isRunning { kill(processIdentifier, SIGTERM) }
    }

    /// Polls rather than blocking in waitpid, so another thread asking `isRunning` meanwhile
    /// is never stuck behind the lock.
    func waitUntilExit() {
        while isRunning { usleep(5_000) }
    }

    /// The exit code, or the signal number for a child killed by a signal (as `Process` gives).
    var terminationStatus: Int32 {
        lock.lock(); defer { lock.unlock() }
        return exitStatus ?? -1
    }

    static func describe(_ code: Int32) -> String {
        strerror(code).map { String(cString: $0) } ?? "error \(code)"
    }

    private static func decode(_ status: Int32) -> Int32 {
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : signal
    }
}

struct SpawnFailure: Error, CustomStringConvertible {
    var executable: String
    var reason: String
    var description: String { "could not start \(executable): \(reason)" }
}

/// Where a child's output goes: a temporary file unlinked at once, read from the start each time.
final class CapturedOutput: @unchecked Sendable {
    private let lock = NSLock()
    private var fd: Int32 = -1

    func descriptor() throws -> Int32 {
        lock.lock(); defer { lock.unlock() }
        if fd >= 0 { return fd }
        var template = Array("/tmp/pendulum-child-XXXXXX".utf8CString)
        let opened = template.withUnsafeMutableBufferPointer { buffer in
            guard let path = buffer.baseAddress else { return Int32(-1) }
            return mkstemp(path)
        }
        guard opened >= 0 else {
            throw SpawnFailure(executable: "(output file)", reason: SpawnedProcess.describe(errno))
        }
        _ = fcntl(opened, F_SETFD, FD_CLOEXEC)
        template.withUnsafeBufferPointer { buffer in if let path = buffer.baseAddress { _ = unlink(path) } }
        fd = opened
        return fd
    }

    var text: String {
        lock.lock(); defer { lock.unlock() }
        guard fd >= 0 else { return "" }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(bytes.count)) }
            if count <= 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    deinit { if fd >= 0 { close(fd) } }
}

/// Paths the tests need: the built `pendulum` binary sits next to the test bundle.
enum TestPaths {
    static var productsDirectory: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    }

    static var pendulum: String { productsDirectory.appendingPathComponent("pendulum").path }
    static var pendulumNTPD: String { productsDirectory.appendingPathComponent("pendulum-ntpd").path }

    static var pendulumPTPD: String { productsDirectory.appendingPathComponent("pendulum-ptpd").path }

    /// A fresh private directory (chrony refuses world-accessible socket directories).
    static func temporaryDirectory(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pendulum-\(name)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return url
    }

    /// Finds a program or explains how to install it; interop tests fail rather than skip.
    static func requireProgram(_ name: String, package: String) throws -> String {
        for directory in ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/bin", "/usr/local/sbin"] {
            let path = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw MissingProgram(name: name, package: package)
    }
}

struct MissingProgram: Error, CustomStringConvertible {
    var name: String
    var package: String
    var description: String { "\(name) is not installed: run scripts/install-test-dependencies.sh (apt-get install \(package))" }
}

/// An unused UDP port on loopback, found by letting the kernel pick one.
func freeUDPPort() -> UInt16 { freePort(type: Int32(SOCK_DGRAM.rawValue)) }

/// An unused TCP port on loopback.
func freeTCPPort() -> UInt16 { freePort(type: Int32(SOCK_STREAM.rawValue)) }

private func freePort(type: Int32) -> UInt16 {
    let fd = socket(AF_INET, type, 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
            _ = bind(fd, raw, length)
            return getsockname(fd, raw, &length)
        }
    }
    return UInt16(bigEndian: address.sin_port)
}
