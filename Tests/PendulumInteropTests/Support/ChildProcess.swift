import Foundation

/// A program the tests start, with its output collected and a hard deadline so no test can hang.
final class ChildProcess: @unchecked Sendable {
    let process = Process()
    private let output = Pipe()
    private let errors = Pipe()
    private let outputData = LockedData()
    private let errorData = LockedData()

    init(_ executable: String, _ arguments: [String]) {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = errors
        let outputData = outputData, errorData = errorData
        // At end of file the handler is removed: left in place it fires forever on the empty
        // pipe, and a pipe closed under a live handler leaves libdispatch watching a reused file
        // descriptor (the test runner crashed in _dispatch_event_loop_drain that way).
        output.fileHandleForReading.readabilityHandler = { handle in Self.drain(handle, into: outputData) }
        errors.fileHandleForReading.readabilityHandler = { handle in Self.drain(handle, into: errorData) }
    }

    private static func drain(_ handle: FileHandle, into data: LockedData) {
        let chunk = handle.availableData
        if chunk.isEmpty {
            handle.readabilityHandler = nil
            data.finish()
        } else {
            data.append(chunk)
        }
    }

    func start() throws {
        try process.run()
    }

    /// Waits for exit; terminates (then kills) the process if it outlives `timeout`.
    @discardableResult
    func wait(timeout: TimeInterval) -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { stop() }
        process.waitUntilExit()
        waitForEndOfOutput()
        return process.terminationStatus
    }

    /// SIGTERM, then SIGKILL. The test runner starts children with SIGTERM and SIGINT blocked
    /// (it inherits that mask to them), so programs that do not unblock them themselves — the
    /// peers, not our daemons — only go with SIGKILL: wait briefly, not seconds.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(0.3)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        waitForEndOfOutput()
    }

    /// The pipes reach end of file once the process (and anything it left holding them) is
    /// gone; bounded, since a grandchild could keep them open.
    private func waitForEndOfOutput() {
        let deadline = Date().addingTimeInterval(2)
        while !(outputData.isFinished && errorData.isFinished) && Date() < deadline { usleep(5_000) }
    }

    var standardOutput: String { outputData.text }
    var standardError: String { errorData.text }

    /// Runs to completion and returns status and output.
    static func run(_ executable: String, _ arguments: [String], timeout: TimeInterval = 30) throws -> (status: Int32, stdout: String, stderr: String) {
        let child = ChildProcess(executable, arguments)
        try child.start()
        let status = child.wait(timeout: timeout)
        return (status, child.standardOutput, child.standardError)
    }
}

final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    private var finished = false
    func append(_ more: Data) { lock.lock(); data.append(more); lock.unlock() }
    func finish() { lock.lock(); finished = true; lock.unlock() }
    var isFinished: Bool { lock.lock(); defer { lock.unlock() }; return finished }
    var text: String { lock.lock(); defer { lock.unlock() }; return String(decoding: data, as: UTF8.self) }
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
