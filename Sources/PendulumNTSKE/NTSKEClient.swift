import NIOCore
import PendulumNTS
import PendulumTime
import PendulumIO

/// A complete NTS-KE client run: TLS exchange, record negotiation, key export. What the NTP
/// side needs to start authenticated requests.
package struct NTSKESession: Sendable {
    package var result: NTSKEClientResult
    package var keys: NTSKeys
    /// The NTP server to ask: the KE server's Server record, else the KE host itself.
    package var ntpHost: String
    /// The KE server's Port record, if it sent one.
    package var ntpPort: UInt16?
    /// When the certificate time check was deferred: the chain's validity, if the local clock
    /// was outside it.
    package var certificateValidity: CertificateValidity?

    package func makeAssociation() throws(AEADError) -> NTSClientAssociation {
        try NTSClientAssociation(result: result, keys: keys)
    }
}

/// Why key establishment failed, in terms an operator can act on.
package enum NTSKEClientFailure: Error, Sendable, CustomStringConvertible {
    case connection(NTSKEConnectionError)
    case protocolError(NTSKEClientError)

    package var description: String {
        switch self {
        case .connection(let error): "\(error)"
        case .protocolError(let error): "NTS-KE: \(error)"
        }
    }
}

package enum NTSKEClient {
    /// A chain valid but for the time, in words: when it is valid and what this machine's
    /// clock (the one TLS judged by) says.
    static func outsideValidity(_ validity: CertificateValidity, now: UnixTime = WallClock.now()) -> String {
        let state = now.seconds < validity.notBefore ? "not yet valid" : "expired"
        return "the server's certificate is \(state): valid from \(UnixTime(seconds: validity.notBefore)) to \(UnixTime(seconds: validity.notAfter)), "
            + "and this machine's clock reads \(now)"
    }

    package static func establish(
        host: String, port: Int = 4460, caFile: String? = nil, timeout: TimeAmount = .seconds(5),
        offering algorithms: [AEADAlgorithm] = [.aesSIVCMAC256, .aesSIVCMAC512],
        certificateTime: CertificateTimeCheck = .againstLocalClock
    ) async throws(NTSKEClientFailure) -> NTSKESession {
        let exchange = NTSKEClientExchange(offering: algorithms)
        let isComplete: @Sendable ([UInt8]) -> Bool = { bytes in
            var decoder = NTSKEMessageDecoder()
            return (try? decoder.receive(bytes)) != nil
        }
        // A deferred time check is only needed when BoringSSL's own, against the local clock,
        // fails: try that first, so a machine whose clock is right never loads a second
        // verifier and the system trust store into memory.
        let transcript: NTSKETranscript
        do {
            let checked = NTSKEClientConnection(host: host, port: port, caFile: caFile, timeout: timeout)
            transcript = try await checked.exchange(request: exchange.request, isCompleteResponse: isComplete)
        } catch .certificateRefused {
            // BoringSSL does not say why. swift-certificates, judging everything but the time,
            // does: before the first synchronisation that run is the deferred check itself;
            // otherwise it only explains the refusal.
            let deferred = NTSKEClientConnection(host: host, port: port, caFile: caFile, timeout: timeout, certificateTime: .deferredUntilAgreement)
            do {
                transcript = try await deferred.exchange(request: exchange.request, isCompleteResponse: isComplete)
            } catch {
                throw .connection(error)
            }
            if certificateTime == .againstLocalClock {
                guard let validity = transcript.certificateValidity else { throw .connection(.certificateRefused) }
                throw .connection(.certificate(reason: Self.outsideValidity(validity)))
            }
        } catch {
            throw .connection(error)
        }
        var reader = exchange
        let result: NTSKEClientResult
        do {
            guard let complete = try reader.receive(transcript.response) else { throw NTSKEClientFailure.connection(.closedBeforeEndOfMessage(received: transcript.response.count)) }
            result = complete
        } catch let error as NTSKEClientError {
            throw .protocolError(error)
        } catch let error as NTSKEClientFailure {
            throw error
        } catch {
            throw .connection(.tls(reason: "\(error)"))
        }
        guard let hash = TLSKeyLog.hash(forSecretLength: transcript.exporterSecret.count) else {
            throw .connection(.noExporterSecret)
        }
        let keys = NTSKeys.derive(exporterSecret: transcript.exporterSecret, hash: hash, nextProtocol: result.nextProtocol, aead: result.aead)
        return NTSKESession(result: result, keys: keys, ntpHost: result.server ?? host, ntpPort: result.port,
            certificateValidity: transcript.certificateValidity)
    }
}
