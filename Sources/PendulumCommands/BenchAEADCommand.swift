import ArgumentParser
import PendulumNTP
import PendulumNTPServer
import PendulumNTS
import PendulumTime

/// `pendulum bench aead`: seals and opens per second for the NTS AEADs on NTS-shaped inputs,
/// plus the whole server-side NTS request path.
@available(macOS 13, *)
struct BenchAEADCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aead",
        abstract: "Measure AES-SIV seals/s and opens/s and NTS server requests/s."
    )

    @Option(help: "Seconds to run each measurement.")
    var seconds: Double = 1

    func run() throws {
        let duration = Duration.milliseconds(Int64((max(0.05, seconds) * 1000).rounded()))
        var random = SystemRandomSource()
        print("operation                                   per second")
        for algorithm in AEADAlgorithm.allCases {
            let siv = try AESSIV(algorithm: algorithm, key: random.bytes(algorithm.keyByteCount))
            let nonce = random.bytes(16)
            // A client request authenticator: nothing to encrypt, ~250 bytes of header and fields.
            let requestAD = random.bytes(48 + 36 + 108 + 108)
            report("seal id \(algorithm.rawValue), request (0 B, AD \(requestAD.count) B)", rate(duration) { _ = siv.seal([], nonce: nonce, associatedData: requestAD) })
            // A server response: one fresh cookie field encrypted, header and UID as AD.
            let cookieField = random.bytes(108)
            let responseAD = random.bytes(48 + 36)
            report("seal id \(algorithm.rawValue), response (\(cookieField.count) B)", rate(duration) { _ = siv.seal(cookieField, nonce: nonce, associatedData: responseAD) })
            let sealed = siv.seal(cookieField, nonce: nonce, associatedData: responseAD)
            report("open id \(algorithm.rawValue), response (\(cookieField.count) B)", rate(duration) { _ = try? siv.open(sealed, nonce: nonce, associatedData: responseAD) })
        }

        var keyset = CookieKeyset.generate(now: 0, random: &random)
        keyset.rotate(now: 1, random: &random)
        let keys = NTSKeys(c2s: random.bytes(32), s2c: random.bytes(32))
        var cookies: [[UInt8]] = []
        for _ in 0..<8 { cookies.append(keyset.mintCookie(aead: .aesSIVCMAC256, keys: keys, random: &random)) }
        report("cookie mint (id 15)", rate(duration) { _ = keyset.mintCookie(aead: .aesSIVCMAC256, keys: keys, random: &random) })
        report("cookie open (id 15)", rate(duration) { _ = try? keyset.openCookie(cookies[0]) })

        var client = try NTSClientAssociation(aead: .aesSIVCMAC256, keys: keys, cookies: cookies)
        let request = try client.makeRequest(header: NTPHeader(mode: .client), random: &random)
        report("NTS server request, general path (arrays)", rate(duration) {
            guard case .respond(let authenticated) = NTSServerHandler.authenticate(request, keyset: keyset) else { return }
            _ = NTSServerHandler.response(header: NTPHeader(mode: .server), to: authenticated, keyset: keyset, random: &random)
        })
        // What a serving worker runs per NTS request: the core's decision with the answer
        // written in place.
        var core = NTPServerCore(configuration: NTPServerCore.Configuration(rateLimit: nil))
        var buffered = BufferedSystemRandomSource()
        var reply = [UInt8](repeating: 0, count: 2048)
        let loopback = ClientAddress(high: 0, low: 0x7F00_0001, isIPv4: true)
        var answered = 0
        let perSecond = request.withUnsafeBytes { requestBytes in
            reply.withUnsafeMutableBytes { replyBytes in
                rate(duration) {
                    let served = core.decide(
                        request: requestBytes, truncated: false, client: loopback, receiveTime: NTPTimestamp(rawValue: 1 << 62),
                        monotonicNanoseconds: 0, state: .local(stratum: 2), keyset: keyset, random: &buffered, reply: replyBytes,
                        transmitTime: { NTPTimestamp(rawValue: 1 << 62) }
                    )
                    if served.outcome == .responded { answered += 1 }
                }
            }
        }
        guard answered > 0 else { throw ValidationError("the serving path answered none of its NTS requests") }
        report("NTS server request, serving path (in place)", perSecond)
    }

    private func rate(_ duration: Duration, _ body: () -> Void) -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        var count = 0
        while clock.now - start < duration {
            for _ in 0..<64 { body() }
            count += 64
        }
        let elapsed = clock.now - start
        let elapsedSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Double(count) / elapsedSeconds
    }

    private func report(_ label: String, _ perSecond: Double) {
        let padded = label + String(repeating: " ", count: max(1, 43 - label.count))
        print("\(padded)\(Int(perSecond.rounded()))")
    }
}
