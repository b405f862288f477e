import NIOCore
import NIOSSL
import PendulumNTS
@_spi(DisableValidityCheck) import X509

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Certificate verification for an NTS-KE run whose local clock may be years off (RFC 8915
/// leaves this open; chrony's answer is `nocerttimecheck`). BoringSSL checks validity periods
/// against the local clock and cannot be told otherwise, so this run replaces its verification
/// with swift-certificates': the chain must lead to a trusted root, name the host, and satisfy
/// RFC 5280's constraints, exactly as always; only the validity period is checked twice, at
/// the local clock and, failing that, ignoring time. In the second case the run succeeds and
/// reports when the whole chain is valid, for the client core to weigh against other sources.
enum DeferredTimeCertificateVerifier {
    enum Verdict: Sendable {
        /// Valid at the local clock's time: nothing deferred.
        case validNow
        /// Valid at some other time.
        case validOnlyWithin(CertificateValidity)
    }

    static func verify(
        presented: [NIOSSLCertificate], serverHostname: String?, serverIP: String?, caFile: String?
    ) async throws(NTSKEConnectionError) -> Verdict {
        let chain: [Certificate]
        do {
            chain = try presented.map { try Certificate(derEncoded: try $0.toDERBytes()) }
        } catch {
            throw .certificate(reason: "the server's certificate cannot be parsed: \(error)")
        }
        guard let leaf = chain.first else { throw .certificate(reason: "the server presented no certificate") }
        if let usages = try? leaf.extensions.extendedKeyUsage, !usages.contains(.serverAuth), !usages.contains(.any) {
            throw .certificate(reason: "the server's certificate is not for TLS servers (extended key usage)")
        }
        var roots = CertificateStore.systemTrustRoots
        if let caFile {
            do {
                roots = roots.appending(contentsOf: try NIOSSLCertificate.fromPEMFile(caFile).map { try Certificate(derEncoded: try $0.toDERBytes()) })
            } catch {
                throw .certificate(reason: "cannot read the CA file \(caFile): \(error)")
            }
        }
        let intermediates = CertificateStore(chain.dropFirst())

        var atLocalTime = Verifier(rootCertificates: roots) {
            RFC5280Policy()  // the local clock, read when validating
            ServerIdentityPolicy(serverHostname: serverHostname, serverIP: serverIP)
        }
        if case .validCertificate = await atLocalTime.validate(leaf: leaf, intermediates: intermediates) {
            return .validNow
        }
        var anyTime = Verifier(rootCertificates: roots) {
            RFC5280Policy.withValidityCheckDisabled()
            ServerIdentityPolicy(serverHostname: serverHostname, serverIP: serverIP)
        }
        switch await anyTime.validate(leaf: leaf, intermediates: intermediates) {
        case .validCertificate(let validated):
            let notBefore = validated.map { Self.unixSeconds($0.notValidBefore) }.max() ?? .min
            let notAfter = validated.map { Self.unixSeconds($0.notValidAfter) }.min() ?? .max
            guard notBefore <= notAfter else {
                throw .certificate(reason: "the server's certificate chain is never valid as a whole (its validity periods do not overlap)")
            }
            return .validOnlyWithin(CertificateValidity(notBefore: notBefore, notAfter: notAfter, keyIdentity: Array(leaf.publicKey.subjectPublicKeyInfoBytes)))
        case .couldNotValidate(let failures):
            let reasons = Set(failures.map { "\($0.policyFailureReason)" }).sorted()
            throw .certificate(reason: "the server's certificate is not trusted: \(reasons.first ?? "no chain to a trusted root")")
        }
    }

    /// Certificate times come from the network: clamp rather than trap.
    static func unixSeconds(_ date: Date) -> Int64 {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        guard seconds.isFinite else { return seconds < 0 ? Int64.min / 2 : Int64.max / 2 }
        return Int64(max(min(seconds, 1e15), -1e15))
    }
}
