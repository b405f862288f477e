import ArgumentParser
import Foundation
import PendulumSync

#if canImport(Glibc)
    import Glibc
#endif

/// `pendulum demo`: the whole product in one command, offline. Starts a local NTS server (a
/// real pendulum-ntpd with a throw-away certificate) and a pendulum-ntpd client whose overlay
/// clock starts deliberately wrong, then shows the client pull it right, a line a second,
/// from the same status socket operators use. Touches nothing outside a temporary directory.
@available(macOS 13, *)
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Watch pendulum-ntpd correct a wrong clock over NTS, offline, in under a minute.",
        discussion: """
            Runs two pendulum-ntpd processes on loopback: an NTS server serving this machine's \
            clock, and a client on an overlay clock started wrong (by default 0.5 s ahead and \
            50 ppm fast). The system clock is never changed; it is the truth the client's error \
            is measured against.
            """
    )

    @Option(help: "How far ahead the client's clock starts, in seconds.")
    var initialOffset: Double = 0.5

    @Option(help: "How fast the client's clock runs on its own, in ppm.")
    var initialFrequencyPPM: Double = 50

    @Option(help: "Give up after this many seconds.")
    var duration: Int = 60

    @Option(help: "Seconds to keep watching once the error is below 1 ms.")
    var hold: Int = 30

    func run() throws {
        let daemonCommand = try Self.locateDaemon()
        let directory = try Self.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let certificate = try DemoCertificate()
        try write(certificate.certificatePEM, to: "\(directory)/cert.pem")
        try write(certificate.privateKeyPEM, to: "\(directory)/key.pem")
        let ntpPort = try Self.freePort(type: Int32(SOCK_DGRAM.rawValue))
        let kePort = try Self.freePort(type: Int32(SOCK_STREAM.rawValue))
        try write("""
            # The demo's NTS server: this machine's clock, served as stratum 1.
            [[server]]
            listen = "127.0.0.1:\(ntpPort)"
            [[nts-ke-server]]
            listen = "127.0.0.1:\(kePort)"
            certificate-chain-path = "cert.pem"
            private-key-path = "key.pem"
            ntp-port = \(ntpPort)
            [keyset]
            key-storage-path = "keys.bin"
            [synchronization]
            local-stratum = 1
            [clock]
            kind = "overlay"

            """, to: "\(directory)/server.toml")
        try write("""
            # The demo's client: one NTS source, an overlay clock started wrong on purpose.
            [[source]]
            mode = "nts"
            address = "127.0.0.1"
            ke-port = \(kePort)
            ca-file = "cert.pem"
            [clock]
            kind = "overlay"
            initial-offset-seconds = \(initialOffset)
            initial-frequency-ppm = \(initialFrequencyPPM)
            [observability]
            observation-path = "\(directory)/observe"

            """, to: "\(directory)/client.toml")

        print("pendulum demo: an NTS server on 127.0.0.1 (NTS-KE port \(kePort), NTP port \(ntpPort)) and a client whose clock")
        print("starts \(Self.signed(initialOffset)) s off and runs \(Self.signed(initialFrequencyPPM)) ppm fast. The system clock is the truth and is not touched.")
        print("")
        let server = try DemoProcess(daemonCommand, config: "\(directory)/server.toml", log: "\(directory)/server.log")
        defer { server.stop() }
        guard server.waitUntilReady(timeout: 15) else {
            throw ValidationError("the demo NTS server did not start:\n\(server.log)")
        }
        let client = try DemoProcess(daemonCommand, config: "\(directory)/client.toml", log: "\(directory)/client.log")
        defer { client.stop() }
        guard client.waitUntilReady(timeout: 15) else {
            throw ValidationError("the demo client did not start:\n\(client.log)")
        }

        DemoInterrupt.install()
        print("  time   error of the client's clock   frequency correction   source")
        let start = Date()
        var reachedAt: Double?
        var worstAfter = 0.0
        var last: ObservationSnapshot?
        while !DemoInterrupt.requested {
            Thread.sleep(forTimeInterval: 1)
            let elapsed = Date().timeIntervalSince(start)
            guard let data = try? ObservationServer.read(from: "\(directory)/observe"),
                  let snapshot = try? JSONDecoder().decode(ObservationSnapshot.self, from: data),
                  let error = snapshot.clock.offsetFromSystemSeconds
            else {
                print(String(format: "%5.0f s   (no status yet)", elapsed))
                continue
            }
            last = snapshot
            print(String(format: "%5.0f s   ", elapsed) + Self.pad(Self.describe(error), 30) + Self.pad(String(format: "%+8.3f ppm", snapshot.clock.frequencyPPM), 23) + Self.describe(source: snapshot.sources.first))
            if let reached = reachedAt {
                worstAfter = max(worstAfter, abs(error))
                if elapsed >= reached + Double(hold) { break }
            } else if abs(error) < 0.001 {
                reachedAt = elapsed
            }
            if elapsed >= Double(duration) { break }
            if !server.isRunning || !client.isRunning { break }
        }

        print("")
        if let reachedAt, let last {
            let final = last.clock.offsetFromSystemSeconds ?? .nan
            print("Summary: within 1 ms of true time after \(Int(reachedAt.rounded())) s; worst \(Self.describe(worstAfter)) over the next \(hold) s; now \(Self.describe(final)).")
            print("         frequency correction \(String(format: "%+.2f", last.clock.frequencyPPM)) ppm against a clock made \(Self.signed(initialFrequencyPPM)) ppm fast; time authenticated with NTS (\(last.sources.first?.cookies ?? 0) cookies held).")
            print("Next: `pendulum-ntpd --config FILE` with docs/examples/*.toml, and `pendulum status` to watch it.")
        } else {
            print("Summary: the client did not get within 1 ms in \(duration) s. Client log:\n\(client.log)")
            throw ExitCode(1)
        }
    }

    private func write(_ text: String, to path: String) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o600)
    }

    static func describe(_ seconds: Double) -> String {
        let magnitude = abs(seconds)
        if magnitude >= 1e-3 { return String(format: "%+.6f s", seconds) }
        return String(format: "%+.1f µs", seconds * 1e6)
    }

    static func describe(source: ObservationSnapshot.Source?) -> String {
        guard let source else { return "-" }
        let state = source.selected ? "selected" : (source.reachable ? "reachable" : "not yet reachable")
        return "\(source.name) \(source.nts ? "NTS" : source.mode), \(state)"
    }

    static func signed(_ value: Double) -> String { value >= 0 ? "+\(value)" : "\(value)" }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }

    /// This very binary: its hidden `ntpd` subcommand is pendulum-ntpd.
    static func locateDaemon() throws -> [String] {
        let myself = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        guard FileManager.default.isExecutableFile(atPath: myself) else {
            throw ValidationError("cannot find this program's own executable to run the daemons")
        }
        return [myself, "ntpd"]
    }

    static func makeDirectory() throws -> String {
        var template = Array("\(NSTemporaryDirectory())/pendulum-demo-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw ValidationError("cannot make a temporary directory") }
        return String(cString: made)
    }

    /// A port free right now on loopback (the kernel's pick for port 0).
    static func freePort(type: Int32) throws -> UInt16 {
        let fd = socket(AF_INET, type, 0)
        guard fd >= 0 else { throw ValidationError("socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(fd, raw, length) == 0 && getsockname(fd, raw, &length) == 0
            }
        }
        guard bound else { throw ValidationError("cannot find a free port: \(String(cString: strerror(errno)))") }
        return UInt16(bigEndian: address.sin_port)
    }
}

/// One daemon the demo runs, its log in a file.
private final class DemoProcess {
    private let process = Process()
    private let logPath: String

    /// `command`: the executable and the arguments before `--config`.
    init(_ command: [String], config: String, log: String) throws {
        logPath = log
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.executableURL = URL(fileURLWithPath: command.first ?? "")
        process.arguments = Array(command.dropFirst()) + ["--config", config]
        process.standardError = FileHandle(forWritingAtPath: log)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
    }

    var isRunning: Bool { process.isRunning }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func waitUntilReady(timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if log.contains("ready:") { return true }
            if !process.isRunning { return false }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return false
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// Ctrl-C ends the demo with its summary and clean-up instead of leaving daemons behind.
private enum DemoInterrupt {
    nonisolated(unsafe) static var flag: sig_atomic_t = 0

    static var requested: Bool { flag != 0 }

    static func install() {
        signal(SIGINT) { _ in DemoInterrupt.flag = 1 }
    }
}
