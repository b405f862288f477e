import ArgumentParser
import Foundation
import PendulumBench
import PendulumIO
import PendulumNTP
import PendulumNTS
import PendulumNTSKE

/// `pendulum bench serve`: how many requests per second NTP servers answer, side by side.
@available(macOS 13, *)
struct BenchServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Load NTP servers on loopback with stepping request rates and compare them.",
        discussion: """
            Each --target is NAME=HOST:PORT (add @KEPORT for NTS, with --nts). For every rate, \
            each target gets the same load in turn: requests from --sockets source ports in \
            batches, for --step-seconds. Reported per rate: loss, invalid replies (wrong mode, \
            unknown origin, kiss-o'-death; with --nts, a sample of replies whose authenticator fails), \
            latency percentiles, and the rate the generator really achieved ("!" where it fell \
            short by more than 3 %: such a step does not count); then each target's highest rate \
            with less than 1 % loss, and their ratio to the first target. Loopback only.
            """
    )

    @Option(name: .customLong("target"), help: "NAME=HOST:PORT[@KEPORT]; repeat for each server.")
    var targets: [String]

    @Option(help: "Comma-separated request rates per second.")
    var rates: String = "10000,20000,40000,80000,160000,320000"

    @Option(help: "Seconds of load per rate and target.")
    var stepSeconds: Double = 2

    @Option(help: "Number of client sockets (source ports).")
    var sockets: Int = 32

    @Flag(help: "NTS-protected requests (cookies from each target's NTS-KE server).")
    var nts = false

    @Option(help: "PEM CA file for NTS-KE (with --nts).")
    var caFile: String?

    @Option(help: "Stop stepping a target once its loss exceeds this fraction.")
    var stopAboveLoss: Double = 0.2

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    struct Target {
        var name: String
        var host: String
        var port: UInt16
        var kePort: UInt16?
    }

    struct Report: Encodable {
        var target: String
        var steps: [LoadStepResult]
        var highestRateUnderOnePercentLoss: Int?
        /// The lowest rate the generator achieved at a step it could not offer in full while
        /// this target still lost < 1 %: the server's limit is above what could be measured.
        var generatorLimit: Int?
        /// The most valid answers per second at any step: the throughput once saturated.
        var mostAnsweredPerSecond: Int { steps.map(\.answeredRate).max() ?? 0 }

        enum CodingKeys: String, CodingKey {
            case target, steps
            case highestRateUnderOnePercentLoss = "highest_rate_under_1pct_loss"
            case generatorLimit = "generator_limited_at"
            case mostAnsweredPerSecond = "most_answered_per_second"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(target, forKey: .target)
            try container.encode(steps, forKey: .steps)
            try container.encodeIfPresent(highestRateUnderOnePercentLoss, forKey: .highestRateUnderOnePercentLoss)
            try container.encodeIfPresent(generatorLimit, forKey: .generatorLimit)
            try container.encode(mostAnsweredPerSecond, forKey: .mostAnsweredPerSecond)
        }
    }

    func parseTargets() throws -> [Target] {
        try targets.map { text in
            let parts = text.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { throw ValidationError("--target \(text): expected NAME=HOST:PORT[@KEPORT]") }
            var endpoint = String(parts[1])
            var kePort: UInt16?
            if let at = endpoint.lastIndex(of: "@") {
                guard let port = UInt16(endpoint[endpoint.index(after: at)...]) else { throw ValidationError("--target \(text): bad KE port") }
                kePort = port
                endpoint = String(endpoint[..<at])
            }
            guard let colon = endpoint.lastIndex(of: ":"), let port = UInt16(endpoint[endpoint.index(after: colon)...]) else {
                throw ValidationError("--target \(text): expected HOST:PORT")
            }
            let host = String(endpoint[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
            guard host.hasPrefix("127.") || host == "::1" || host == "localhost" else {
                throw ValidationError("--target \(text): load tests run against loopback only")
            }
            if nts && kePort == nil { throw ValidationError("--target \(text): --nts needs @KEPORT") }
            return Target(name: String(parts[0]), host: host, port: port, kePort: kePort)
        }
    }

    func run() async throws {
        let parsedTargets = try parseTargets()
        let rateList = rates.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.filter { $0 > 0 }
        guard !rateList.isEmpty else { throw ValidationError("--rates: no positive rates") }
        var generators: [(Target, NTPLoadGenerator)] = []
        for target in parsedTargets {
            guard let address = try NameResolver.resolve(target.host, port: target.port).first else { continue }
            if nts, let kePort = target.kePort {
                generators.append((target, try await ntsGenerator(target: target, address: address, kePort: kePort)))
            } else {
                generators.append((target, NTPLoadGenerator(target: address, sockets: sockets)))
            }
        }
        var reports = parsedTargets.map { Report(target: $0.name, steps: [], highestRateUnderOnePercentLoss: nil, generatorLimit: nil) }
        var saturated = Set<Int>()
        for rate in rateList {
            for (index, (target, generator)) in generators.enumerated() where !saturated.contains(index) {
                let result = try generator.run(rate: rate, seconds: stepSeconds)
                reports[index].steps.append(result)
                // A step the generator could not offer in full does not measure the server.
                if result.lossFraction < 0.01, result.generatorKeptUp {
                    reports[index].highestRateUnderOnePercentLoss = max(reports[index].highestRateUnderOnePercentLoss ?? 0, rate)
                }
                if !result.generatorKeptUp, result.lossFraction < 0.01 {
                    reports[index].generatorLimit = min(reports[index].generatorLimit ?? .max, result.achievedRate)
                }
                if result.lossFraction > stopAboveLoss { saturated.insert(index) }
                if !json {
                    print(target.name.padding(toLength: max(10, target.name.count + 1), withPad: " ", startingAt: 0) + line(result))
                }
                // Let queues drain between steps so one step does not eat into the next.
                usleep(300_000)
            }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            print(String(decoding: try encoder.encode(reports), as: UTF8.self))
            return
        }
        print("")
        let baseline = reports.first?.highestRateUnderOnePercentLoss
        for report in reports {
            var text = "\(report.target): highest rate with < 1 % loss: \(report.highestRateUnderOnePercentLoss.map(String.init) ?? "none")"
            if let baseline, baseline > 0, let mine = report.highestRateUnderOnePercentLoss, report.target != reports.first?.target {
                text += String(format: " (%.2f× %@)", Double(mine) / Double(baseline), reports[0].target)
            }
            if let limit = report.generatorLimit {
                text += " — a lower bound: at higher rates the generator itself could offer only \(limit)/s, and still under 1 % was lost"
            }
            print(text)
        }
        let baselineAnswered = reports.first?.mostAnsweredPerSecond ?? 0
        for report in reports {
            var text = "\(report.target): most answered per second at any step: \(report.mostAnsweredPerSecond)"
            if baselineAnswered > 0, report.target != reports.first?.target {
                text += String(format: " (%.2f× %@)", Double(report.mostAnsweredPerSecond) / Double(baselineAnswered), reports[0].target)
            }
            print(text)
        }
    }

    private func line(_ result: LoadStepResult) -> String {
        String(
            format: "rate %7d/s  achieved %7d/s%@  sent %8d  answered %8d  loss %6.2f %%  invalid %6d  latency p50 %7.1f µs  p99 %8.1f µs  max %8.1f µs",
            result.offeredRate, result.achievedRate, result.generatorKeptUp ? " " : "!", result.sent, result.answered, result.lossFraction * 100,
            result.invalid, result.latencyP50Microseconds, result.latencyP99Microseconds, result.latencyMaxMicroseconds
        ) + (nts ? "  authenticated \(result.authenticated)" : "")
    }

    /// Runs NTS-KE once, then seals a pool of requests, each with its own nonce and unique
    /// identifier, all carrying the first cookie (the server cannot tell a reused cookie, as
    /// with ntpperf). Every request asks for no extra cookies, so all have the same length and
    /// the same cost to the server. The pool is large enough that a request is not resent
    /// before its previous reply is due, so replies can be matched to sends.
    private func ntsGenerator(target: Target, address: SocketAddress, kePort: UInt16) async throws -> NTPLoadGenerator {
        let session = try await NTSKEClient.establish(host: target.host, port: Int(kePort), caFile: caFile)
        let salt = UInt32.random(in: 1...UInt32.max)
        var random = SystemRandomSource()
        var requests: [[UInt8]] = []
        let poolSize = 16384
        requests.reserveCapacity(poolSize)
        for index in 0..<poolSize {
            var association = try NTSClientAssociation(result: session.result, keys: session.keys)
            let nonce = UInt64(salt) << 32 | UInt64(index)
            let header = NTPHeader(leap: .unsynchronized, mode: .client, transmitTimestamp: .init(rawValue: nonce))
            requests.append(try association.makeRequest(header: header, random: &random))
        }
        guard requests.allSatisfy({ $0.count == requests[0].count }) else {
            throw ValidationError("\(target.name): NTS requests of different lengths")
        }
        // A sample of replies is authenticated with the S2C key, as a client would: a server
        // that answered fast but wrongly would show up as invalid replies.
        let serverToClient = try AESSIV(algorithm: session.result.aead, key: session.keys.s2c)
        return NTPLoadGenerator(target: address, sockets: sockets, sealedRequests: requests, salt: salt) { reply in
            guard let packet = try? NTSPacket(parsing: Array(reply)), let authenticator = packet.authenticator else { return false }
            return (try? serverToClient.open(authenticator.ciphertext, nonce: authenticator.nonce, associatedData: packet.authenticatedBytes)) != nil
        }
    }
}
