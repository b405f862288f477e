import PendulumNTS
import Testing
@testable import PendulumNTPDaemon
#if canImport(Glibc)
import Glibc
#endif

/// The NTS server's key file, which pendulum-ntpd keeps (PendulumNTS itself touches no files).
@Suite struct KeysetFileTests {
    #if canImport(Glibc)
    @Test func keyFileIsAtomicPrivateAndNeverSilentlyReplaced() throws {
        var template = Array("/tmp/pendulum-keyset-XXXXXX".utf8CString)
        let created: String? = template.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress, let result = mkdtemp(base) else { return nil }
            return String(cString: result)
        }
        let directory = try #require(created)
        let path = directory + "/keys.bin"
        defer { unlink(path); unlink(path + ".tmp"); rmdir(directory) }
        var random = SystemRandomSource()

        #expect(try KeysetFile.load(path: path) == nil)
        let first = try KeysetFile.loadOrCreate(path: path, now: 0, random: &random)
        var status = stat()
        #expect(stat(path, &status) == 0)
        #expect(status.st_mode & 0o777 == 0o600)
        let reloaded = try KeysetFile.loadOrCreate(path: path, now: 10, random: &random)
        #expect(reloaded == first, "a restart keeps the keys")
        let rotated = try KeysetFile.loadOrCreate(path: path, now: 86_400, random: &random)
        #expect(rotated.stale == [first.current])
        #expect(try KeysetFile.load(path: path) == rotated)

        // Corrupt one byte: loading fails with a clear error and the file stays as it was.
        // pread/pwrite: stdio's update mode needs a seek between a read and a write, and
        // without one the byte was, once under load, never changed.
        let descriptor = open(path, O_RDWR)
        var byte: UInt8 = 0
        #expect(pread(descriptor, &byte, 1, 20) == 1)
        byte ^= 0x5A
        #expect(pwrite(descriptor, &byte, 1, 20) == 1)
        close(descriptor)
        var sizeBefore = stat()
        stat(path, &sizeBefore)
        #expect {
            _ = try KeysetFile.loadOrCreate(path: path, now: 86_401, random: &random)
        } throws: { error in
            guard let error = error as? KeysetFileError, case .corrupt = error else { return false }
            return true
        }
        var sizeAfter = stat()
        stat(path, &sizeAfter)
        #expect(sizeAfter.st_mtim.tv_nsec == sizeBefore.st_mtim.tv_nsec && sizeAfter.st_size == sizeBefore.st_size)
    }
    #endif
}
