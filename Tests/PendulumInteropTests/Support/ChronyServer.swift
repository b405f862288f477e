import Foundation

/// A chronyd serving time on loopback for a test: `-x` so it never touches the system clock,
/// a private config, state directory and port, stopped when the test is done. Set up once and
/// only read afterwards, so tests may hand it to blocking work off the cooperative pool.
final class ChronyServer: @unchecked Sendable {
    let port: UInt16
    let stratum: Int
    let directory: URL
    private let child: ChildProcess

    /// The NTS-KE port when started with a certificate.
    let ntsKEPort: UInt16?

    /// With `certificate`, chronyd also runs an NTS-KE server on a free TCP port.
    init(stratum: Int = 3, certificate: TestCertificate? = nil, extraConfig: [String] = []) throws {
        let chronyd = try TestPaths.requireProgram("chronyd", package: "chrony")
        port = freeUDPPort()
        ntsKEPort = certificate == nil ? nil : freeTCPPort()
        self.stratum = stratum
        directory = try TestPaths.temporaryDirectory("chrony")
        let config = [
            "port \(port)",
            "bindaddress 127.0.0.1",
            "bindaddress ::1",
            "allow all",
            "local stratum \(stratum)",
            "cmdport 0",
            "pidfile \(directory.path)/chronyd.pid",
            "driftfile \(directory.path)/drift",
        ] + Self.ntsConfiguration(certificate, port: ntsKEPort, directory: directory) + extraConfig
        let configPath = directory.appendingPathComponent("chrony.conf").path
        try config.joined(separator: "\n").appending("\n").write(toFile: configPath, atomically: true, encoding: .utf8)
        child = ChildProcess(chronyd, ["-x", "-u", "root", "-d", "-f", configPath])
        try child.start()
        try waitUntilServing()
    }

    private static func ntsConfiguration(_ certificate: TestCertificate?, port ntsKEPort: UInt16?, directory: URL) -> [String] {
        guard let certificate, let ntsKEPort else { return [] }
        return [
            "ntsport \(ntsKEPort)",
            "ntsserverkey \(certificate.privateKeyPath)",
            "ntsservercert \(certificate.certificatePath)",
            "ntsdumpdir \(directory.path)",
            "ntsprocesses 0",
        ]
    }

    /// chronyd answers as soon as its sockets are bound; poll with a plain query until it does.
    private func waitUntilServing() throws {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            guard child.process.isRunning else { break }
            let probe = try ChildProcess.run(TestPaths.pendulum, ["query", "--samples", "1", "--timeout", "0.5", "--port", "\(port)", "127.0.0.1"], timeout: 5)
            if probe.status == 0 { return }
            usleep(100_000)
        }
        stop()
        throw ChronyFailed(log: child.standardError + child.standardOutput)
    }

    func stop() {
        child.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }
}

struct ChronyFailed: Error, CustomStringConvertible {
    var log: String
    var description: String { "chronyd did not start serving:\n\(log)" }
}
