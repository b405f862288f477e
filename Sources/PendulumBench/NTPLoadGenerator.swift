import Foundation
import Glibc
import PendulumIO

/// What one target did at one requested rate.
package struct LoadStepResult: Sendable, Codable {
    /// The rate asked for.
    package var offeredRate: Int
    /// The rate the generator really sent at: requests over the time it took to send them.
    /// Below `offeredRate` when the generator's core could not keep up; such a step says
    /// nothing about the server's limit.
    package var achievedRate: Int
    package var sent: Int
    package var answered: Int
    /// Replies that are not a valid answer to a request sent: wrong mode, a kiss, an unknown
    /// origin, a duplicate, or (NTS) one of the sampled replies whose authenticator fails.
    package var invalid: Int
    /// NTS: how many replies had their authenticator checked (a sample).
    package var authenticated: Int
    package var lossFraction: Double
    package var latencyP50Microseconds: Double
    package var latencyP90Microseconds: Double
    package var latencyP99Microseconds: Double
    package var latencyMaxMicroseconds: Double

    /// The generator sent within 3 % of the rate asked for: the step measures the server.
    package var generatorKeptUp: Bool { Double(achievedRate) >= 0.97 * Double(offeredRate) }

    /// Valid answers per second over the time the requests were sent in. Once a server is
    /// offered more than it can take, this is its throughput whatever the loss.
    package var answeredRate: Int {
        guard sent > 0 else { return 0 }
        return Int((Double(answered) * Double(achievedRate) / Double(sent)).rounded())
    }

    enum CodingKeys: String, CodingKey {
        case sent, answered, invalid, authenticated
        case offeredRate = "offered_rate"
        case achievedRate = "achieved_rate"
        case lossFraction = "loss_fraction"
        case latencyP50Microseconds = "latency_p50_us"
        case latencyP90Microseconds = "latency_p90_us"
        case latencyP99Microseconds = "latency_p99_us"
        case latencyMaxMicroseconds = "latency_max_us"
    }
}

/// Offers an NTP server a fixed request rate for a while, from many source ports, in batches,
/// and counts what comes back: the shape of ntpperf, on loopback.
///
/// One thread does everything: it sends what the clock says is due (sendmmsg, 32 at a time,
/// sockets in turn), then takes whatever replies are waiting on every socket (recvmmsg), and
/// sleeps (ppoll) only when nothing is due and nothing arrived. On a loaded machine that
/// keeps the generator's own cost per request near the kernel's, and it measures the rate it
/// really achieved, so a step it could not offer is reported as such instead of as the server's.
///
/// Every request carries `salt ‖ index` as its transmit timestamp; a reply counts when it is in
/// server mode, not a kiss, and its origin timestamp carries our salt and an index we sent.
/// Latency is from the send batch to the receive batch on CLOCK_MONOTONIC.
package final class NTPLoadGenerator: @unchecked Sendable {
    package let target: SocketAddress
    package let socketCount: Int
    /// All request templates back to back; a request's transmit timestamp (bytes 40–47) is
    /// overwritten unless `templatesCarryTheirOwnNonce` (NTS requests, sealed over the header).
    private let templates: [UInt8]
    private let templateCount: Int
    private let packetLength: Int
    private let templatesCarryTheirOwnNonce: Bool
    private let salt: UInt32
    /// Checks a reply's authenticity (NTS); called for one reply in `checkEvery`.
    private let replyCheck: (@Sendable (UnsafeRawBufferPointer) -> Bool)?
    private let checkEvery = 16

    static let sendBatch = 32
    static let receiveBatch = 64
    static let receiveSlotBytes = 2048

    /// Plain NTP: one 48-byte client request, nonces written per send.
    package init(target: SocketAddress, sockets: Int = 32) {
        self.target = target
        socketCount = max(1, sockets)
        var request = [UInt8](repeating: 0, count: 48)
        request[0] = 0x23  // LI 0, version 4, mode 3
        templates = request
        templateCount = 1
        packetLength = 48
        templatesCarryTheirOwnNonce = false
        salt = UInt32.random(in: 1...UInt32.max)
        replyCheck = nil
    }

    /// Pre-built requests (e.g. NTS-sealed) that already carry `salt ‖ index` nonces, all of the
    /// same length; they are sent round-robin. `replyCheck` authenticates a sample of replies.
    package init(target: SocketAddress, sockets: Int = 32, sealedRequests: [[UInt8]], salt: UInt32,
                replyCheck: (@Sendable (UnsafeRawBufferPointer) -> Bool)? = nil) {
        self.target = target
        socketCount = max(1, sockets)
        templates = sealedRequests.flatMap { $0 }
        templateCount = max(1, sealedRequests.count)
        packetLength = sealedRequests.first?.count ?? 48
        templatesCarryTheirOwnNonce = true
        self.salt = salt
        self.replyCheck = replyCheck
    }

    /// Runs one step: `rate` requests per second for `seconds`, then waits `drain` for stragglers.
    package func run(rate: Int, seconds: Double, drain: Double = 0.25) throws -> LoadStepResult {
        let sockets = try (0..<socketCount).map { _ in try BatchedUDPSocket(connectedTo: target) }
        let total = max(1, Int(Double(rate) * seconds))
        var step = Step(generator: self, total: total, sockets: sockets)
        defer { step.release() }
        let start = monotonicNanoseconds()
        let nanosecondsPerRequest = 1e9 / Double(rate)
        var next = 0
        var socketIndex = 0
        var sendingEnded: UInt64?
        while true {
            let now = monotonicNanoseconds()
            var due = total
            if next < total {
                due = min(total, Int(Double(now - start) / nanosecondsPerRequest) + 1)
                // At most two batches before looking at replies: a generator that falls behind
                // must not let its own receive queues overflow while it catches up.
                var batches = 0
                while next < due, batches < 2 {
                    let count = min(Self.sendBatch, due - next)
                    step.send(from: next, count: count, socket: sockets[socketIndex], at: now)
                    socketIndex = (socketIndex + 1) % sockets.count
                    next += count
                    batches += 1
                }
                if next == total { sendingEnded = monotonicNanoseconds() }
            }
            let received = step.receiveWaiting(sentSoFar: next)
            if let ended = sendingEnded {
                if step.answeredCount >= total || monotonicNanoseconds() >= ended + UInt64(drain * 1e9) { break }
            }
            if received == 0, next >= due {
                // Idle: sleep until the next request is due or a reply arrives.
                let untilDue = next < total ? Double(next) * nanosecondsPerRequest - Double(monotonicNanoseconds() - start) : 1e6
                step.waitForReplies(nanoseconds: Int(min(1e6, max(0, untilDue))))
            }
        }
        let sendingTook = Double((sendingEnded ?? monotonicNanoseconds()) - start)
        // The last request is due (total − 1) intervals after the first.
        let planned = Double(total - 1) * nanosecondsPerRequest
        let achieved = total > 1 ? Double(rate) * min(1, planned / max(sendingTook, 1)) : Double(rate)
        return step.result(rate: rate, achievedRate: Int(achieved.rounded()), sent: next)
    }

    /// The buffers and tallies of one step.
    private struct Step {
        let generator: NTPLoadGenerator
        let total: Int
        let sockets: [BatchedUDPSocket]
        let sendTimes: UnsafeMutableBufferPointer<UInt64>
        let answered: UnsafeMutableBufferPointer<Bool>
        let sendBuffer: UnsafeMutableRawBufferPointer
        let slots: UnsafeMutableRawBufferPointer
        let lengths: UnsafeMutableBufferPointer<Int32>
        let stamps: UnsafeMutableBufferPointer<timespec>
        var latencies: [UInt64] = []
        var invalid = 0
        var authenticated = 0
        var repliesSeen = 0
        var answeredCount: Int { latencies.count }

        init(generator: NTPLoadGenerator, total: Int, sockets: [BatchedUDPSocket]) {
            self.generator = generator
            self.total = total
            self.sockets = sockets
            sendTimes = .allocate(capacity: total)
            sendTimes.initialize(repeating: 0)
            answered = .allocate(capacity: total)
            answered.initialize(repeating: false)
            sendBuffer = .allocate(byteCount: generator.packetLength * NTPLoadGenerator.sendBatch, alignment: 16)
            slots = .allocate(byteCount: NTPLoadGenerator.receiveSlotBytes * NTPLoadGenerator.receiveBatch, alignment: 16)
            lengths = .allocate(capacity: NTPLoadGenerator.receiveBatch)
            stamps = .allocate(capacity: NTPLoadGenerator.receiveBatch)
            latencies.reserveCapacity(total)
        }

        func release() {
            sendTimes.deallocate()
            answered.deallocate()
            sendBuffer.deallocate()
            slots.deallocate()
            lengths.deallocate()
            stamps.deallocate()
        }

        /// Requests `first ..< first + count` in one sendmmsg. What the kernel refuses counts
        /// as sent and lost: under real overload the server would not have seen it either.
        func send(from first: Int, count: Int, socket: BatchedUDPSocket, at now: UInt64) {
            let length = generator.packetLength
            generator.templates.withUnsafeBytes { templates in
                for slot in 0..<count {
                    let index = first + slot
                    let template = (index % generator.templateCount) * length
                    let destination = UnsafeMutableRawBufferPointer(rebasing: sendBuffer[slot * length..<(slot + 1) * length])
                    destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: templates[template..<template + length]))
                    if !generator.templatesCarryTheirOwnNonce {
                        let nonce = UInt64(generator.salt) << 32 | UInt64(UInt32(truncatingIfNeeded: index))
                        destination.storeBytes(of: nonce.bigEndian, toByteOffset: 40, as: UInt64.self)
                    }
                    sendTimes[index] = now
                }
            }
            _ = socket.sendBatch(UnsafeRawBufferPointer(rebasing: sendBuffer[..<(count * length)]), length: length, count: count)
        }

        /// Takes every reply already waiting on every socket; returns how many.
        mutating func receiveWaiting(sentSoFar: Int) -> Int {
            var taken = 0
            for socket in sockets {
                while true {
                    let count = socket.receiveBatch(into: slots, slotSize: NTPLoadGenerator.receiveSlotBytes, lengths: lengths, timestamps: stamps)
                    if count == 0 { break }
                    let now = monotonicNanoseconds()
                    for message in 0..<count {
                        let reply = UnsafeRawBufferPointer(rebasing: slots[message * NTPLoadGenerator.receiveSlotBytes..<message * NTPLoadGenerator.receiveSlotBytes + Int(lengths[message])])
                        take(reply, at: now, sentSoFar: sentSoFar)
                    }
                    taken += count
                    if count < NTPLoadGenerator.receiveBatch { break }
                }
            }
            return taken
        }

        private mutating func take(_ reply: UnsafeRawBufferPointer, at now: UInt64, sentSoFar: Int) {
            // Server mode, and not a kiss-o'-death (RATE, NTS NAK): those are refusals.
            guard reply.count >= 48, reply[0] & 0x7 == 4, reply[1] != 0 else { invalid += 1; return }
            var origin: UInt64 = 0
            for byte in 24..<32 { origin = origin << 8 | UInt64(reply[byte]) }
            let sequence = Int(origin & 0xFFFF_FFFF)
            guard origin >> 32 == UInt64(generator.salt) else { invalid += 1; return }
            // Sealed requests are reused round-robin: attribute the reply to the latest send of that request.
            let slot = generator.templatesCarryTheirOwnNonce ? latestSend(of: sequence, sent: sentSoFar) : sequence
            guard slot >= 0, slot < total, slot < sentSoFar, !answered[slot] else { invalid += 1; return }
            repliesSeen += 1
            if let check = generator.replyCheck, repliesSeen % generator.checkEvery == 0 {
                guard check(reply) else { invalid += 1; return }
                authenticated += 1
            }
            answered[slot] = true
            latencies.append(now &- sendTimes[slot])
        }

        private func latestSend(of templateIndex: Int, sent: Int) -> Int {
            let count = generator.templateCount
            guard templateIndex < count, templateIndex < sent else { return -1 }
            return templateIndex + (sent - 1 - templateIndex) / count * count
        }

        func waitForReplies(nanoseconds: Int) {
            BatchedUDPSocket.waitForAnyReadable(sockets, nanoseconds: nanoseconds)
        }

        mutating func result(rate: Int, achievedRate: Int, sent: Int) -> LoadStepResult {
            latencies.sort()
            func percentile(_ p: Double) -> Double {
                guard !latencies.isEmpty else { return 0 }
                return Double(latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]) / 1000
            }
            return LoadStepResult(
                offeredRate: rate, achievedRate: achievedRate, sent: sent, answered: latencies.count, invalid: invalid,
                authenticated: authenticated, lossFraction: sent == 0 ? 1 : 1 - Double(latencies.count) / Double(sent),
                latencyP50Microseconds: percentile(0.5), latencyP90Microseconds: percentile(0.9),
                latencyP99Microseconds: percentile(0.99), latencyMaxMicroseconds: Double(latencies.last ?? 0) / 1000
            )
        }
    }
}

func monotonicNanoseconds() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}
