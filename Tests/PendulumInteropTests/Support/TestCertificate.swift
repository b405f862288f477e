import Foundation

/// A self-signed certificate and key for loopback NTS tests, made by openssl, valid for
/// IP:127.0.0.1, IP:::1 and DNS:localhost.
struct TestCertificate {
    let directory: URL
    var certificatePath: String { directory.appendingPathComponent("cert.pem").path }
    var privateKeyPath: String { directory.appendingPathComponent("key.pem").path }

    init() throws {
        let openssl = try TestPaths.requireProgram("openssl", package: "openssl")
        directory = try TestPaths.temporaryDirectory("cert")
        let result = try ChildProcess.run(openssl, [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-days", "2", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost",
            "-keyout", directory.appendingPathComponent("key.pem").path,
            "-out", directory.appendingPathComponent("cert.pem").path,
        ])
        guard result.status == 0 else { throw CertificateFailed(log: result.stderr) }
    }

    func remove() {
        try? FileManager.default.removeItem(at: directory)
    }
}

struct CertificateFailed: Error, CustomStringConvertible {
    var log: String
    var description: String { "openssl could not make a test certificate: \(log)" }
}
