import Foundation

/// NTPsec's ntpd as an NTS server on loopback, unpacked beside the repo by
/// scripts/install-test-dependencies.sh. It can never change the machine's clock: it runs with
/// CAP_SYS_TIME removed from its capability bounding set (setpriv) and with `disable ntp`.
/// NTPsec has no NTS-KE port option, so it uses the standard ports 123 and 4460 on 127.0.0.1.
final class NTPsecServer {
    private let child: ChildProcess
    let directory: URL

    static var ntpd: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(".peers/ntpsec/usr/sbin/ntpd").path
    }

    init(certificate: TestCertificate) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.ntpd) else {
            throw MissingProgram(name: "NTPsec ntpd (\(Self.ntpd))", package: "ntpsec, unpacked by scripts/install-test-dependencies.sh")
        }
        let setpriv = try TestPaths.requireProgram("setpriv", package: "util-linux")
        directory = try TestPaths.temporaryDirectory("ntpsec")
        let config = [
            "disable ntp",
            "interface ignore all",
            "interface listen 127.0.0.1",
            "nts enable",
            "nts key \(certificate.privateKeyPath)",
            "nts cert \(certificate.certificatePath)",
            "nts cookie \(directory.path)/cookies",
            "driftfile \(directory.path)/drift",
        ]
        let configPath = directory.appendingPathComponent("ntp.conf").path
        try config.joined(separator: "\n").appending("\n").write(toFile: configPath, atomically: true, encoding: .utf8)
        child = ChildProcess(setpriv, [
            "--bounding-set=-sys_time", "--inh-caps=-sys_time",
            Self.ntpd, "-n", "-c", configPath, "-p", directory.appendingPathComponent("pid").path,
        ])
        try child.start()
        // Ready when the NTS-KE listener is up.
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, !child.standardError.contains("NTSs: listen4 worked"), !child.standardOutput.contains("NTSs: listen4 worked") {
            guard child.process.isRunning else { break }
            usleep(100_000)
        }
    }

    var log: String { child.standardOutput + child.standardError }

    func stop() {
        child.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }
}
