#if canImport(Glibc)
import Glibc
#endif

/// Reads a small text file whole; nil when it cannot be read.
enum TextFile {
    static func read(path: String, limit: Int = 1 << 20) -> String? {
        guard let stream = fopen(path, "r") else { return nil }
        defer { fclose(stream) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count <= limit {
            let count = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, stream) }
            if count == 0 { break }
            bytes += chunk.prefix(count)
        }
        guard ferror(stream) == 0, bytes.count <= limit else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }
}
