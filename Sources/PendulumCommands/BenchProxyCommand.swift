import ArgumentParser
import PendulumBench
import PendulumIO

/// `pendulum bench proxy`: a UDP relay that delays, jitters and drops datagrams on loopback,
/// so the accuracy benchmark can put our client and chronyd's behind identical bad paths to
/// the same server.
@available(macOS 13, *)
struct BenchProxyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy",
        abstract: "Relay UDP between loopback clients and a loopback server with delay, jitter and loss.",
        discussion: """
            Each datagram is dropped with the direction's loss probability or delivered after \
            its base delay plus an exponentially distributed jitter of the given mean (seconds). \
            --step-at/--step add base delay from a given time on. Every client address gets its \
            own upstream socket. Loopback only; stops by itself after --seconds (or on SIGINT or \
            SIGTERM) and prints one summary line: datagrams each way, drops, and how late \
            deliveries were.
            """
    )

    static let maximumSeconds: Double = 7200

    @Option(help: "HOST:PORT clients send to; a loopback address.")
    var listen: String

    @Option(help: "HOST:PORT of the server; a loopback address.")
    var upstream: String

    @Option(help: "Base delay each way (s).")
    var delay: Double = 0

    @Option(help: "Mean of the exponential jitter added each way (s).")
    var jitter: Double = 0

    @Option(help: "Fraction of datagrams dropped each way, 0 to 1.")
    var loss: Double = 0

    @Option(help: "Base delay client to server (s); overrides --delay.")
    var requestDelay: Double?

    @Option(help: "Base delay server to client (s); overrides --delay.")
    var replyDelay: Double?

    @Option(help: "Mean jitter client to server (s); overrides --jitter.")
    var requestJitter: Double?

    @Option(help: "Mean jitter server to client (s); overrides --jitter.")
    var replyJitter: Double?

    @Option(help: "Loss client to server; overrides --loss.")
    var requestLoss: Double?

    @Option(help: "Loss server to client; overrides --loss.")
    var replyLoss: Double?

    @Option(help: "Seconds after the start at which the delay step happens.")
    var stepAt: Double?

    @Option(parsing: .unconditional, help: "Base delay added both ways from --step-at on (s).")
    var step: Double?

    @Option(parsing: .unconditional, help: "Base delay added client to server from --step-at on (s); overrides --step.")
    var requestStep: Double?

    @Option(parsing: .unconditional, help: "Base delay added server to client from --step-at on (s); overrides --step.")
    var replyStep: Double?

    @Option(help: "Seconds before each delivery to stop sleeping and poll in a loop, for punctual deliveries (at most 0.01).")
    var spin: Double = 0.0001

    @Option(help: "Seed of the loss and jitter draws.")
    var seed: UInt64 = 1

    @Option(help: "Seconds to relay for before stopping (at most 7200).")
    var seconds: Double

    var settings: PathImpairmentSettings {
        PathImpairmentSettings(
            request: PathDirectionSettings(
                baseDelay: requestDelay ?? delay, meanJitter: requestJitter ?? jitter,
                loss: requestLoss ?? loss, step: requestStep ?? step ?? 0
            ),
            reply: PathDirectionSettings(
                baseDelay: replyDelay ?? delay, meanJitter: replyJitter ?? jitter,
                loss: replyLoss ?? loss, step: replyStep ?? step ?? 0
            ),
            stepAt: stepAt
        )
    }

    func validate() throws {
        guard seconds.isFinite, seconds > 0, seconds <= Self.maximumSeconds else {
            throw ValidationError("--seconds must be in (0, \(Int(Self.maximumSeconds))]")
        }
        guard spin.isFinite, spin >= 0, spin <= 0.01 else { throw ValidationError("--spin must be in [0, 0.01]") }
        do {
            try settings.validate()
        } catch {
            throw ValidationError(error.description)
        }
        _ = try addresses()
    }

    private func addresses() throws -> (listen: SocketAddress, upstream: SocketAddress) {
        guard let listenAddress = BenchReflectCommand.loopbackAddress(listen) else {
            throw ValidationError("--listen \(listen): expected a loopback HOST:PORT (127.0.0.0/8 or [::1])")
        }
        guard let upstreamAddress = BenchReflectCommand.loopbackAddress(upstream), upstreamAddress.port != 0 else {
            throw ValidationError("--upstream \(upstream): expected a loopback HOST:PORT (127.0.0.0/8 or [::1]) with a port")
        }
        return (listenAddress, upstreamAddress)
    }

    func run() throws {
        let (listenAddress, upstreamAddress) = try addresses()
        let impairment: PathImpairment
        do {
            impairment = try PathImpairment(settings: settings, seed: seed)
        } catch {
            throw ValidationError(error.description)
        }
        let proxy = try ImpairingProxy(listen: listenAddress, upstream: upstreamAddress, impairment: impairment, spinSeconds: spin)
        proxy.run(seconds: seconds)
        print(proxy.summary)
    }
}
