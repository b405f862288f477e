#if canImport(Glibc)
    import Glibc
#endif
import NIOCore
import NIOPosix
import NIOSSL

/// NIO's and BoringSSL's errors as a person reads them: what happened in plain words, the
/// library's own text only where nothing plainer is known. NIOSSL keeps BoringSSL's error
/// codes private, so a handshake failure is known only by the reason name in its text
/// ("…:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED at …"); this is the one place that reads it.
enum NTSKEErrorText {
    /// Why a TCP connection could not be made.
    static func connect(_ error: any Error) -> String {
        switch error {
        case let failure as NIOConnectionError:
            if let dns = failure.dnsAError ?? failure.dnsAAAAError { return connect(dns) }
            guard let first = failure.connectionErrors.first else { return "the name has no address" }
            let others = failure.connectionErrors.count - 1
            return "\(connect(first.error)) (\(first.target.ipAddress ?? "\(first.target)")\(others > 0 ? " and \(others) more address\(others == 1 ? "" : "es")" : ""))"
        case let unknown as SocketAddressError.UnknownHost:
            return "cannot resolve the name (\(unknown.errorDescription.lowercased()))"
        case let io as IOError:
            return String(cString: strerror(io.errnoCode)).lowercased()
        case ChannelError.connectTimeout(let limit):
            return "no answer to the connection within \(Double(limit.nanoseconds) / 1e9) s"
        default:
            return "\(error)"
        }
    }

    /// BoringSSL's reason name in a handshake error's text, e.g. "CERTIFICATE_VERIFY_FAILED".
    static func boringSSLReason(in text: String) -> String? {
        let marker = Array("OPENSSL_internal:")
        let characters = Array(text)
        guard characters.count >= marker.count,
            let start = (0...(characters.count - marker.count)).first(where: { Array(characters[$0..<$0 + marker.count]) == marker })
        else { return nil }
        let reason = characters[(start + marker.count)...].prefix { $0.isUppercase || $0.isNumber || $0 == "_" }
        return reason.isEmpty ? nil : String(reason)
    }

    /// What a TLS failure during the exchange becomes.
    static func tlsFailure(_ error: any Error) -> NTSKEConnectionError {
        let text = "\(error)"
        if let reason = boringSSLReason(in: text) {
            if reason == "CERTIFICATE_VERIFY_FAILED" { return .certificateRefused }
            let words = String(reason.lowercased().map { $0 == "_" ? " " : $0 })
            switch reason {
            case "WRONG_VERSION_NUMBER": return .tls(reason: "the server does not speak TLS on this port (\(words))")
            case "TLSV1_ALERT_PROTOCOL_VERSION", "UNSUPPORTED_PROTOCOL": return .tls(reason: "the server does not offer TLS 1.3 (\(words))")
            case "NO_APPLICATION_PROTOCOL", "TLSV1_ALERT_NO_APPLICATION_PROTOCOL": return .tls(reason: "the server does not offer NTS-KE (ALPN ntske/1) (\(words))")
            default: return .tls(reason: "the TLS handshake failed (\(words))")
            }
        }
        if let extra = error as? NIOSSLExtraError, extra == .failedToValidateHostname {
            return .certificate(reason: "the server's certificate is not for the name or address asked for")
        }
        if let ssl = error as? NIOSSLError {
            switch ssl {
            case .uncleanShutdown: return .tls(reason: "the server closed the connection during the TLS exchange")
            default: break
            }
        }
        if let io = error as? IOError { return .tls(reason: String(cString: strerror(io.errnoCode)).lowercased()) }
        return .tls(reason: text)
    }
}
