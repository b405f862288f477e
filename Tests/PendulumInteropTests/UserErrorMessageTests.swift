import Foundation
import PendulumNTSKE
import Testing

/// Every error a user can cause names the thing (host, port, file, socket) and says what is
/// wrong in plain words, with a library's own detail at most as a suffix: never a Swift type
/// name or a BoringSSL error stack as the message.
@Suite(.serialized) struct UserErrorMessageTests {
    /// Names that only a library's error dump contains.
    static let libraryNames = ["NIOSSL", "BoringSSL", "SocketAddressError", "NIOConnectionError", "IOError", "handshakeFailed", "sslError", "OPENSSL_internal"]

    func expectPlain(_ arguments: [String], contains expected: [String], program: String = TestPaths.pendulum, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let result = try await offCooperativePool { try ChildProcess.run(program, arguments, timeout: 30) }
        let text = result.stderr + result.stdout
        #expect(result.status != 0, "\(arguments) succeeded: \(text)", sourceLocation: sourceLocation)
        for part in expected { #expect(text.contains(part), "\(arguments): \(text)", sourceLocation: sourceLocation) }
        for name in Self.libraryNames { #expect(!text.contains(name), "\(arguments) printed a library's error: \(text)", sourceLocation: sourceLocation) }
    }

    @Test func namesAndConnectionsOfNTSServers() async throws {
        try await expectPlain(["query", "--nts", "no-such-host.invalid"], contains: ["no-such-host.invalid", "cannot resolve the name"])
        let port = freeTCPPort()
        try await expectPlain(["query", "--nts", "--ke-port", "\(port)", "127.0.0.1"], contains: ["127.0.0.1 port \(port)", "connection refused"])
    }

    @Test func certificatesOutOfTimeUntrustedOrForAnotherName() async throws {
        // Valid from a year ahead (openssl cannot back-date the test CA, so an expired chain
        // would never have been valid as a whole: that case has its own message).
        let future = try DeferredCertificateTimeTests.FutureCertificates(subjectAltName: "IP:127.0.0.1")
        defer { future.remove() }
        try await DeferredCertificateTimeTests.withServer(future) { port in
            try await expectPlain(["query", "--nts", "--ke-port", "\(port)", "--ca-file", future.caPath, "127.0.0.1"],
                                  contains: ["the server's certificate is not yet valid: valid from", "this machine's clock reads"])
            // Without the CA file the system's roots do not know the test CA.
            try await expectPlain(["query", "--nts", "--ke-port", "\(port)", "127.0.0.1"], contains: ["certificate is not trusted"])
        }
        let elsewhere = try DeferredCertificateTimeTests.FutureCertificates(subjectAltName: "IP:192.0.2.7", startInDays: -1)
        defer { elsewhere.remove() }
        try await DeferredCertificateTimeTests.withServer(elsewhere) { port in
            try await expectPlain(["query", "--nts", "--ke-port", "\(port)", "--ca-file", elsewhere.caPath, "127.0.0.1"],
                                  contains: ["certificate is not for the name or address asked for"])
        }
    }

    @Test func caFilesThatCannotBeUsed() async throws {
        try await expectPlain(["query", "--nts", "--ca-file", "/nonexistent/ca.pem", "127.0.0.1"],
                              contains: ["cannot use the CA file /nonexistent/ca.pem: no such file or directory"])
        let directory = try TestPaths.temporaryDirectory("not-pem")
        defer { try? FileManager.default.removeItem(at: directory) }
        let notPEM = directory.appendingPathComponent("ca.pem").path
        try "not a certificate\n".write(toFile: notPEM, atomically: true, encoding: .utf8)
        try await expectPlain(["query", "--nts", "--ca-file", notPEM, "127.0.0.1"], contains: ["cannot use the CA file \(notPEM): not a PEM certificate file"])
    }

    @Test func aStatusSocketThatCannotBeRead() async throws {
        try await expectPlain(["status", "--socket", "/nonexistent/observe"], contains: ["no daemon status at /nonexistent/observe", "is pendulum-ntpd or pendulum-ptpd running"])
        // Readable by its owner and group only, asked by someone who is neither.
        let daemon = try await offCooperativePool { try NTPDaemonProcess(nts: false) }
        defer { daemon.remove() }
        let setpriv = try TestPaths.requireProgram("setpriv", package: "util-linux")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: daemon.directory.path)
        try await expectPlain(["--reuid=65534", "--regid=65534", "--clear-groups", TestPaths.pendulum, "status", "--socket", daemon.observationPath],
                              contains: ["no permission to read the daemon status at \(daemon.observationPath)", "member of the group"], program: setpriv)
        // A directory that keeps others out, as the package's /run/pendulum does: its group is named.
        try FileManager.default.setAttributes([.posixPermissions: 0o750], ofItemAtPath: daemon.directory.path)
        try await expectPlain(["--reuid=65534", "--regid=65534", "--clear-groups", TestPaths.pendulum, "status", "--socket", daemon.observationPath],
                              contains: ["no permission to read the daemon status at \(daemon.observationPath)", "member of the group \"root\" (its directory's)"], program: setpriv)
    }

    @Test func everyBinarySaysItsVersion() async throws {
        for program in [TestPaths.pendulum, TestPaths.pendulumNTPD, TestPaths.pendulumPTPD] {
            let result = try await offCooperativePool { try ChildProcess.run(program, ["--version"], timeout: 10) }
            let name = URL(fileURLWithPath: program).lastPathComponent
            #expect(result.status == 0)
            #expect(result.stdout.hasPrefix("\(name) (Pendulum) "), "\(result.stdout)\(result.stderr)")
        }
    }

    @Test func negativeNumbersAreValues() async throws {
        let result = try await offCooperativePool {
            try ChildProcess.run(TestPaths.pendulum, ["simulate", "--initial-offset", "-0.5", "--asymmetry", "-1e-4", "--duration", "200", "--warmup", "0"], timeout: 60)
        }
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("time to sync"), "\(result.stdout)")
    }
}

/// As a user other than root, with no configuration: pendulum-ntpd starts (an overlay clock,
/// its status socket in /tmp/pendulum-UID) and `pendulum status`, run as the same user with no
/// options, finds it.
@Suite(.serialized) struct UnprivilegedStartTests {
    @Test func aUserStartsTheDaemonWithNoConfigurationAndReadsItsStatus() async throws {
        let setpriv = try TestPaths.requireProgram("setpriv", package: "util-linux")
        let asNobody = ["--reuid=65534", "--regid=65534", "--clear-groups"]
        let directory = "/tmp/pendulum-65534"
        let existed = FileManager.default.fileExists(atPath: directory)
        defer { if !existed { try? FileManager.default.removeItem(atPath: directory) } }
        let daemon = ChildProcess(setpriv, asNobody + [TestPaths.pendulumNTPD])
        try daemon.start()
        defer { daemon.stop() }
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline, !daemon.standardError.contains("ready:"), daemon.process.isRunning {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(daemon.standardError.contains("ready:"), "\(daemon.standardError)")
        #expect(daemon.standardError.contains("overlay clock"), "\(daemon.standardError)")
        let status = try await offCooperativePool { try ChildProcess.run(setpriv, asNobody + [TestPaths.pendulum, "status"], timeout: 10) }
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout.contains("synchronised"), "\(status.stdout)\(status.stderr)")
    }
}
