import Foundation

/// chronyd -x as a client of one server on loopback, with its command socket in a private
/// directory so `chronyc -h SOCKET` can read its sources and NTS state.
final class ChronyClient: @unchecked Sendable {
    let directory: URL
    var socketPath: String { directory.appendingPathComponent("chronyd.sock").path }
    private let child: ChildProcess

    struct Source {
        var state: String
        var reach: Int
        var offsetSeconds: Double
    }

    struct AuthData {
        var mode: String
        var keyEstablishmentAttempts: Int
        var naks: Int
        var cookies: Int
    }

    /// `ntsKEPort` nil: plain NTP. The poll is fixed at 2^-2 s so a test sees many exchanges.
    /// `xleave`: ask for interleaved mode (RFC 9769).
    init(serverPort: UInt16, ntsKEPort: UInt16? = nil, trustedCertificate: String? = nil, xleave: Bool = false) throws {
        let chronyd = try TestPaths.requireProgram("chronyd", package: "chrony")
        directory = try TestPaths.temporaryDirectory("chrony-client")
        var server = "server 127.0.0.1 port \(serverPort) iburst minpoll -2 maxpoll -2"
        if let ntsKEPort { server += " nts ntsport \(ntsKEPort)" }
        if xleave { server += " xleave" }
        var config = [
            server,
            "bindcmdaddress \(directory.appendingPathComponent("chronyd.sock").path)",
            "cmdport 0",
            "port 0",
            "pidfile \(directory.path)/chronyd.pid",
            "driftfile \(directory.path)/drift",
            "ntsdumpdir \(directory.path)",
        ]
        if let trustedCertificate { config.append("ntstrustedcerts \(trustedCertificate)") }
        let configPath = directory.appendingPathComponent("chrony.conf").path
        try config.joined(separator: "\n").appending("\n").write(toFile: configPath, atomically: true, encoding: .utf8)
        child = ChildProcess(chronyd, ["-x", "-u", "root", "-d", "-f", configPath])
        try child.start()
    }

    private func chronyc(_ command: String) throws -> [String] {
        let chronyc = try TestPaths.requireProgram("chronyc", package: "chrony")
        let result = try ChildProcess.run(chronyc, ["-h", socketPath, "-n", "-c", command], timeout: 5)
        guard result.status == 0 else { return [] }
        return result.stdout.split(separator: "\n").map(String.init)
    }

    /// The first source, from `chronyc -c sources`.
    func source() throws -> Source? {
        guard let line = try chronyc("sources").first else { return nil }
        let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard fields.count >= 10, let reach = Int(fields[5], radix: 8), let offset = Double(fields[8]) else { return nil }
        return Source(state: fields[1], reach: reach, offsetSeconds: offset)
    }

    /// `chronyc -n ntpdata`: the last exchange with each source, as text ("Interleaved : Yes").
    func ntpData() throws -> String {
        let chronyc = try TestPaths.requireProgram("chronyc", package: "chrony")
        return try ChildProcess.run(chronyc, ["-h", socketPath, "-n", "ntpdata"], timeout: 5).stdout
    }

    /// The first source's NTS state, from `chronyc -c authdata`.
    func authData() throws -> AuthData? {
        guard let line = try chronyc("authdata").first else { return nil }
        let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard fields.count >= 10, let attempts = Int(fields[6]), let naks = Int(fields[7]), let cookies = Int(fields[8]) else { return nil }
        return AuthData(mode: fields[1], keyEstablishmentAttempts: attempts, naks: naks, cookies: cookies)
    }

    /// Polls until `condition` holds for the source, or the deadline passes. Sleeps with
    /// Task.sleep: a blocked cooperative thread would stall other suites' async tests.
    func waitForSource(timeout: TimeInterval, _ condition: (Source) -> Bool) async throws -> Source? {
        let deadline = Date().addingTimeInterval(timeout)
        var last: Source?
        while Date() < deadline {
            last = try await offCooperativePool { try self.source() }
            if let last, condition(last) { return last }
            try await Task.sleep(for: .milliseconds(250))
        }
        return last
    }

    var log: String { child.standardError + child.standardOutput }

    func stop() {
        child.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }
}
