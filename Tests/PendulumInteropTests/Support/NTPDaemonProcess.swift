import Foundation
import PendulumSync

/// A pendulum-ntpd for a test: its own directory with config, certificate and key file, on free
/// loopback ports; started and waited for until it says it is ready; restartable with the same
/// ports and key file.
/// Used by one test at a time; `@unchecked Sendable` so its blocking calls can run off the
/// cooperative pool.
final class NTPDaemonProcess: @unchecked Sendable {
    let directory: URL
    let ntpPort: UInt16
    let ntsKEPort: UInt16?
    let certificate: TestCertificate?
    var configPath: String { directory.appendingPathComponent("ntpd.toml").path }
    var keyPath: String { directory.appendingPathComponent("keys.bin").path }
    var observationPath: String { directory.appendingPathComponent("observe").path }
    private(set) var child: ChildProcess?
    let descriptorLimit: Int?
    let cpu: Int?
    var processIdentifier: Int32? { child?.process.processIdentifier }

    /// - Parameters:
    ///   - serverLines: added to the first `[[server]]` (e.g. "workers = 2").
    ///   - extraListen: more `[[server]]` sections, one per address ("127.0.0.123:123").
    ///   - extraLines: go at the end of the file; without a `[clock]` among them the daemon runs
    ///     on an overlay clock (a test never gives it the system clock, even as root).
    ///   - descriptorLimit: run under `prlimit --nofile=N:N`, soft and hard.
    ///   - cpu: run pinned to this CPU (`taskset -c`), for a load test whose load generator
    ///     is pinned to another.
    ///   - sharedCertificate: with `nts`, serve this certificate (one several servers share)
    ///     instead of a new one.
    init(nts: Bool, sharedCertificate: TestCertificate? = nil, localStratum: Int? = 2, alsoIPv6: Bool = false, keysetLines: [String] = [],
         serverLines: [String] = [], extraListen: [String] = [], extraLines: [String] = [], descriptorLimit: Int? = nil, cpu: Int? = nil) throws {
        self.descriptorLimit = descriptorLimit
        self.cpu = cpu
        directory = try TestPaths.temporaryDirectory("ntpd")
        ntpPort = freeUDPPort()
        certificate = nts ? try sharedCertificate ?? TestCertificate() : nil
        ntsKEPort = nts ? freeTCPPort() : nil
        var lines = ["[[server]]", "listen = \"127.0.0.1:\(ntpPort)\""] + serverLines
        if alsoIPv6 { lines += ["[[server]]", "listen = \"[::1]:\(ntpPort)\""] }
        for address in extraListen { lines += ["[[server]]", "listen = \"\(address)\""] }
        if let certificate, let ntsKEPort {
            lines += [
                "[[nts-ke-server]]", "listen = \"127.0.0.1:\(ntsKEPort)\"",
                "certificate-chain-path = \"\(certificate.certificatePath)\"",
                "private-key-path = \"\(certificate.privateKeyPath)\"", "ntp-port = \(ntpPort)",
                "[keyset]", "key-storage-path = \"\(keyPath)\"",
            ] + keysetLines
        }
        if let localStratum { lines += ["[synchronization]", "local-stratum = \(localStratum)"] }
        if !extraLines.contains("[clock]") { lines += ["[clock]", "kind = \"overlay\""] }
        if !extraLines.contains("[observability]") { lines += ["[observability]", "observation-path = \"\(observationPath)\""] }
        lines += extraLines
        try lines.joined(separator: "\n").appending("\n").write(toFile: configPath, atomically: true, encoding: .utf8)
        try start()
    }

    func start() throws {
        var command = [TestPaths.pendulumNTPD, "--config", configPath]
        if let descriptorLimit { command = [try TestPaths.requireProgram("prlimit", package: "util-linux"), "--nofile=\(descriptorLimit):\(descriptorLimit)"] + command }
        if let cpu { command = [try TestPaths.requireProgram("taskset", package: "util-linux"), "-c", "\(cpu)"] + command }
        let child = ChildProcess(command[0], Array(command.dropFirst()))
        try child.start()
        self.child = child
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if child.standardError.contains("ready:") { return }
            guard child.process.isRunning else { break }
            usleep(20_000)
        }
        child.stop()
        throw DaemonFailed(log: child.standardError)
    }

    /// SIGTERM; returns the exit status and what it logged.
    @discardableResult
    func stop() -> (status: Int32, log: String) {
        guard let child else { return (0, "") }
        if child.process.isRunning { kill(child.process.processIdentifier, SIGTERM) }
        let status = child.wait(timeout: 5)
        self.child = nil
        return (status, child.standardError)
    }

    /// SIGKILL: no clean-up at all, as a crash or an OOM kill would leave things.
    func kill9() {
        guard let child else { return }
        kill(child.process.processIdentifier, SIGKILL)
        _ = child.wait(timeout: 5)
        self.child = nil
    }

    /// `pendulum status --json` against this daemon; nil when it does not answer.
    func status() throws -> ObservationSnapshot? {
        let result = try ChildProcess.run(TestPaths.pendulum, ["status", "--json", "--socket", observationPath], timeout: 10)
        guard result.status == 0 else { return nil }
        return try? JSONDecoder().decode(ObservationSnapshot.self, from: Data(result.stdout.utf8))
    }

    /// What it has logged so far.
    var log: String { child?.standardError ?? "" }

    func remove() {
        stop()
        certificate?.remove()
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { remove() }
}

struct DaemonFailed: Error, CustomStringConvertible {
    var log: String
    var description: String { "pendulum-ntpd did not become ready:\n\(log)" }
}
