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
        output.fileHandleForReading.readabilityHandler = { outputData.append($0.availableData) }
        errors.fileHandleForReading.readabilityHandler = { errorData.append($0.availableData) }
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
        // Let the pipe handlers catch the last bytes.
        usleep(50_000)
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
    func append(_ more: Data) { lock.lock(); data.append(more); lock.unlock() }
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
