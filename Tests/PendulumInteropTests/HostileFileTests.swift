import Foundation
import Testing

/// Files someone else may have planted where the daemon (often root) reads or writes: each
/// must end in an error naming the file within a second, never a hang, and nothing may be
/// written outside the key directory.
extension NTPDaemonInteropTests {
    @Suite(.serialized) struct HostileFileTests {
        /// Runs the daemon with `config` and returns its status, log and how long it took.
        func start(_ config: String) async throws -> (status: Int32, stderr: String, seconds: Double) {
            let started = Date()
            let result = try await offCooperativePool { try ChildProcess.run(TestPaths.pendulumNTPD, ["--config", config], timeout: 10) }
            return (result.status, result.stderr, Date().timeIntervalSince(started))
        }

        @Test func aFIFOAtTheKeyPathIsRefusedAtOnce() async throws {
            let daemon = try await offCooperativePool { try NTPDaemonProcess(nts: true) }
            defer { daemon.remove() }
            _ = try await offCooperativePool { daemon.stop() }
            try FileManager.default.removeItem(atPath: daemon.keyPath)
            #expect(mkfifo(daemon.keyPath, 0o600) == 0)
            let result = try await start(daemon.configPath)
            #expect(result.status == 1)
            #expect(result.stderr.contains("key file \(daemon.keyPath) is not a regular file"), "\(result.stderr)")
            #expect(result.seconds < 1, "took \(result.seconds) s")
        }

        @Test func aSymbolicLinkAtTheTemporaryKeyFileIsNotWrittenThrough() async throws {
            let daemon = try await offCooperativePool { try NTPDaemonProcess(nts: true) }
            defer { daemon.remove() }
            _ = try await offCooperativePool { daemon.stop() }
            // A target outside the key directory that a root daemon must not overwrite or chmod.
            let outside = try TestPaths.temporaryDirectory("victim")
            defer { try? FileManager.default.removeItem(at: outside) }
            let victim = outside.appendingPathComponent("victim").path
            try "untouched\n".write(toFile: victim, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: victim)
            // No key file, so the daemon creates one through keys.bin.tmp.
            try FileManager.default.removeItem(atPath: daemon.keyPath)
            try FileManager.default.createSymbolicLink(atPath: daemon.keyPath + ".tmp", withDestinationPath: victim)
            try await offCooperativePool { try daemon.start() }
            _ = try await offCooperativePool { daemon.stop() }
            #expect(try String(contentsOfFile: victim, encoding: .utf8) == "untouched\n")
            let mode = try FileManager.default.attributesOfItem(atPath: victim)[.posixPermissions] as? Int
            #expect(mode == 0o644)
            let keyFile = try FileManager.default.attributesOfItem(atPath: daemon.keyPath)
            #expect(keyFile[.type] as? FileAttributeType == .typeRegular)
            #expect(keyFile[.posixPermissions] as? Int == 0o600)
        }

        @Test func anOversizedOrFIFOConfigurationSaysWhy() async throws {
            let directory = try TestPaths.temporaryDirectory("hostile-config")
            defer { try? FileManager.default.removeItem(at: directory) }
            let large = directory.appendingPathComponent("large.toml").path
            try String(repeating: "# padding\n", count: 110_000).write(toFile: large, atomically: true, encoding: .utf8)
            let tooLarge = try await start(large)
            #expect(tooLarge.status == 2)
            #expect(tooLarge.stderr.contains("\(large): 1100000 bytes: larger than the 1024 KiB a configuration may have"), "\(tooLarge.stderr)")
            let fifo = directory.appendingPathComponent("fifo.toml").path
            #expect(mkfifo(fifo, 0o600) == 0)
            let planted = try await start(fifo)
            #expect(planted.status == 2)
            #expect(planted.stderr.contains("\(fifo): not a regular file"), "\(planted.stderr)")
            #expect(planted.seconds < 1, "took \(planted.seconds) s")
        }

        /// pendulum-ptpd read its configuration with Foundation, which waits on a FIFO forever.
        @Test func aFIFOAsThePTPDaemonsConfigurationIsRefusedAtOnce() async throws {
            let directory = try TestPaths.temporaryDirectory("hostile-ptp-config")
            defer { try? FileManager.default.removeItem(at: directory) }
            let fifo = directory.appendingPathComponent("ptp.toml").path
            #expect(mkfifo(fifo, 0o600) == 0)
            let started = Date()
            let result = try await offCooperativePool { try ChildProcess.run(TestPaths.pendulumPTPD, ["--config", fifo], timeout: 10) }
            let seconds = Date().timeIntervalSince(started)
            #expect(result.status == 1)
            #expect(result.stderr.contains("cannot read \(fifo): not a regular file"), "\(result.stderr)")
            #expect(seconds < 1, "took \(seconds) s")
        }
    }
}
