import Foundation
import Glibc
import PendulumIO

/// What one target did at one offered rate.
public struct LoadStepResult: Sendable, Codable {
    public var offeredRate: Int
    public var sent: Int
    public var answered: Int
    public var invalid: Int
    public var lossFraction: Double
    public var latencyP50Microseconds: Double
    public var latencyP90Microseconds: Double
    public var latencyP99Microseconds: Double
    public var latencyMaxMicroseconds: Double

    enum CodingKeys: String, CodingKey {
        case sent, answered, invalid
        case offeredRate = "offered_rate"
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
/// Every request carries `salt ‖ index` as its transmit timestamp; a reply counts when it is in
/// server mode and its origin timestamp carries our salt and an index we sent. Anything else
/// is invalid. Latency is from the send batch to the receive batch on CLOCK_MONOTONIC.
public final class NTPLoadGenerator: @unchecked Sendable {
    public let target: SocketAddress
    public let socketCount: Int
    /// Request templates; a request's transmit timestamp (bytes 40–47) is overwritten unless
    /// `templatesCarryTheirOwnNonce` (NTS requests, which are sealed over the header).
    private let templates: [[UInt8]]
    private let templatesCarryTheirOwnNonce: Bool
    private let salt: UInt32

    /// Plain NTP: one 48-byte client request, nonces written per send.
    public init(target: SocketAddress, sockets: Int = 32) {
        self.target = target
        socketCount = max(1, sockets)
        var request = [UInt8](repeating: 0, count: 48)
        request[0] = 0x23  // LI 0, version 4, mode 3
        templates = [request]
        templatesCarryTheirOwnNonce = false
        salt = UInt32.random(in: 1...UInt32.max)
    }

    /// Pre-built requests (e.g. NTS-sealed) that already carry `salt ‖ index` nonces, all of the
    /// same length; they are sent round-robin.
    public init(target: SocketAddress, sockets: Int = 32, sealedRequests: [[UInt8]], salt: UInt32) {
        self.target = target
        socketCount = max(1, sockets)
        templates = sealedRequests
        templatesCarryTheirOwnNonce = true
        self.salt = salt
    }

    /// Runs one step: `rate` requests per second for `seconds`, then waits `drain` for stragglers.
    public func run(rate: Int, seconds: Double, drain: Double = 0.25) throws -> LoadStepResult {
        let sockets = try (0..<socketCount).map { _ in try BatchedUDPSocket(connectedTo: target) }
        let total = max(1, Int(Double(rate) * seconds))
        let packetLength = templates[0].count
        let sendTimes = SendTimes(capacity: total)
        let answered = UnsafeMutableBufferPointer<Bool>.allocate(capacity: total)
        answered.initialize(repeating: false)
        defer { answered.deallocate() }
        let progress = SendProgress()
        let sender = Thread { [self] in
            self.send(total: total, rate: rate, sockets: sockets, packetLength: packetLength, sendTimes: sendTimes, progress: progress)
        }
        sender.start()
        var latencies: [UInt64] = []
        latencies.reserveCapacity(total)
        var invalid = 0
        receive(sockets: sockets, total: total, progress: progress, drain: drain, sendTimes: sendTimes, answered: answered,
                latencies: &latencies, invalid: &invalid)
        while sender.isExecuting { usleep(1000) }
        let sent = progress.sent
        latencies.sort()
        func percentile(_ p: Double) -> Double {
            guard !latencies.isEmpty else { return 0 }
            return Double(latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]) / 1000
        }
        return LoadStepResult(
            offeredRate: rate, sent: sent, answered: latencies.count, invalid: invalid,
            lossFraction: sent == 0 ? 1 : 1 - Double(latencies.count) / Double(sent),
            latencyP50Microseconds: percentile(0.5), latencyP90Microseconds: percentile(0.9),
            latencyP99Microseconds: percentile(0.99), latencyMaxMicroseconds: Double(latencies.last ?? 0) / 1000
        )
    }

    private func send(
        total: Int, rate: Int, sockets: [BatchedUDPSocket], packetLength: Int,
        sendTimes: SendTimes, progress: SendProgress
    ) {
        let batchSize = 32
        var buffer = [UInt8](repeating: 0, count: packetLength * batchSize)
        let start = monotonicNanoseconds()
        var next = 0
        var socketIndex = 0
        while next < total {
            // Pace to the offered rate: send what is due, then yield briefly.
            let elapsed = monotonicNanoseconds() - start
            let due = min(total, Int(Double(elapsed) * Double(rate) / 1e9) + 1)
            if next >= due {
                usleep(100)
                continue
            }
            let count = min(batchSize, due - next)
            for slot in 0..<count {
                let index = next + slot
                let template = templates[index % templates.count]
                let base = slot * packetLength
                buffer.withUnsafeMutableBufferPointer { pointer in
                    for offset in 0..<packetLength { pointer[base + offset] = template[offset] }
                    if !templatesCarryTheirOwnNonce {
                        let nonce = UInt64(salt) << 32 | UInt64(UInt32(truncatingIfNeeded: index))
                        for byte in 0..<8 { pointer[base + 40 + byte] = UInt8(truncatingIfNeeded: nonce >> (56 - 8 * byte)) }
                    }
                }
            }
            let now = monotonicNanoseconds()
            for slot in 0..<count { sendTimes.record(now, at: next + slot) }
            // Published before the send: a reply can come back before sendBatch returns, and
            // the receiver must then already count this batch as sent to match it.
            progress.set(next + count)
            let accepted = buffer.withUnsafeBytes { sockets[socketIndex].sendBatch($0, length: packetLength, count: count) }
            socketIndex = (socketIndex + 1) % sockets.count
            // What the kernel refused counts as sent and lost: the server never had a chance,
            // but neither does it under real overload.
            _ = accepted
            next += count
        }
        progress.finish()
    }

    private func receive(
        sockets: [BatchedUDPSocket], total: Int, progress: SendProgress, drain: Double,
        sendTimes: SendTimes, answered: UnsafeMutableBufferPointer<Bool>,
        latencies: inout [UInt64], invalid: inout Int
    ) {
        let slotSize = 2048
        let batch = 64
        let slots = UnsafeMutableRawBufferPointer.allocate(byteCount: slotSize * batch, alignment: 16)
        let lengths = UnsafeMutableBufferPointer<Int32>.allocate(capacity: batch)
        let stamps = UnsafeMutableBufferPointer<timespec>.allocate(capacity: batch)
        defer {
            slots.deallocate()
            lengths.deallocate()
            stamps.deallocate()
        }
        var pollers = sockets.map { pollfd(fd: $0.descriptor, events: Int16(POLLIN), revents: 0) }
        var drainDeadline: UInt64?
        while true {
            if drainDeadline == nil, progress.isFinished { drainDeadline = monotonicNanoseconds() + UInt64(drain * 1e9) }
            if let deadline = drainDeadline, monotonicNanoseconds() >= deadline { break }
            if latencies.count >= total { break }
            guard poll(&pollers, nfds_t(pollers.count), 5) > 0 else { continue }
            for (index, poller) in pollers.enumerated() where poller.revents & Int16(POLLIN) != 0 {
                while true {
                    let count = sockets[index].receiveBatch(into: slots, slotSize: slotSize, lengths: lengths, timestamps: stamps)
                    if count == 0 { break }
                    let now = monotonicNanoseconds()
                    for message in 0..<count {
                        let length = Int(lengths[message])
                        let base = slots.baseAddress.map { UnsafeRawPointer($0) + message * slotSize }
                        // Server mode, and not a kiss-o'-death (RATE, NTS NAK): those are refusals.
                        guard let base, length >= 48, base.load(fromByteOffset: 0, as: UInt8.self) & 0x7 == 4,
                              base.load(fromByteOffset: 1, as: UInt8.self) != 0 else {
                            invalid += 1
                            continue
                        }
                        var origin: UInt64 = 0
                        for byte in 0..<8 { origin = origin << 8 | UInt64(base.load(fromByteOffset: 24 + byte, as: UInt8.self)) }
                        let sequence = Int(origin & 0xFFFF_FFFF)
                        guard origin >> 32 == UInt64(salt), sequence < total || templatesCarryTheirOwnNonce else {
                            invalid += 1
                            continue
                        }
                        // Sealed requests are reused round-robin: attribute the reply to the
                        // latest send of that request.
                        let slot = templatesCarryTheirOwnNonce ? latestSend(of: sequence, sent: progress.sent) : sequence
                        guard slot >= 0, slot < total, !answered[slot] else {
                            invalid += 1
                            continue
                        }
                        answered[slot] = true
                        latencies.append(now &- sendTimes.time(at: slot))
                    }
                }
            }
        }
    }

    private func latestSend(of templateIndex: Int, sent: Int) -> Int {
        guard templateIndex < templates.count, templateIndex < sent else { return -1 }
        let rounds = (sent - 1 - templateIndex) / templates.count
        return rounds < 0 ? -1 : templateIndex + rounds * templates.count
    }
}

/// When each request went out. The sender writes a slot before the request leaves; the receiver
/// reads it only after the server's reply to that request came back through the kernel, which
/// orders the two, so the slots need no lock of their own.
final class SendTimes: @unchecked Sendable {
    private let times: UnsafeMutableBufferPointer<UInt64>
    init(capacity: Int) {
        times = .allocate(capacity: capacity)
        times.initialize(repeating: 0)
    }
    deinit { times.deallocate() }
    func record(_ time: UInt64, at index: Int) { times[index] = time }
    func time(at index: Int) -> UInt64 { times[index] }
}

/// How far the sender has got, for the receiver.
final class SendProgress: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    private var finished = false
    func set(_ value: Int) { lock.withLock { count = value } }
    func finish() { lock.withLock { finished = true } }
    var sent: Int { lock.withLock { count } }
    var isFinished: Bool { lock.withLock { finished } }
}

func monotonicNanoseconds() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}
