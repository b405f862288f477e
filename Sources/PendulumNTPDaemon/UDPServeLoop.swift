#if canImport(Glibc)
import Glibc
#endif
import PendulumIO
import PendulumNTPServer
import PendulumNTS
import PendulumTime

/// One listen address and the workers that answer on it: each worker a thread with its own
/// SO_REUSEPORT socket (the kernel spreads clients over them by address and port), its own
/// `NTPServerCore` (and so its own slice of the rate-limit table) and its own buffers. Per
/// batch: kernel receive timestamps as T2, the decision from the core, T3 read while each
/// reply is built, then one sendmmsg for the batch.
package final class UDPServeLoop: Sendable {
    package let localAddress: SocketAddress
    package let workerCount: Int
    private let threads: [DaemonThread]

    /// Requests taken per receive call.
    static let batchSize = 64
    /// How long a reply may wait in the batch after its T3 was read (plain replies take about
    /// a microsecond each, NTS replies about ten): bounds the error batching adds to T3.
    static let maximumReplyWaitNanoseconds: Int64 = 25_000

    /// Binds every worker's socket now (so a busy port fails at startup) and starts answering.
    /// - Parameter workers: nil: one per online core.
    /// - Parameter smear: spread leap seconds over this window in the time served (and announce none).
    package init(listen: SocketAddress, configuration: NTPServerCore.Configuration, smear: LeapSmear? = nil, state: ServingState, stop: StopFlag, index: Int,
                workers: Int? = nil) throws(DaemonError) {
        let count = max(1, workers ?? Self.onlineCores())
        // Each worker sees its own clients (the kernel keeps a source on one socket), so the
        // table is divided, not multiplied: memory stays what the configuration says.
        let perWorker = Self.workerConfiguration(configuration, workers: count)
        var sockets: [BatchedServerSocket] = []
        for worker in 0..<count {
            let address = sockets.first?.localAddress ?? listen
            sockets.append(try BatchedServerSocket(
                listen: address, joiningGroup: worker > 0, shareable: count > 1, batch: Self.batchSize,
                // One byte over the limit: a datagram that fills the buffer is known to be oversized.
                requestCapacity: configuration.maximumRequestBytes + 1, replyCapacity: configuration.maximumRequestBytes,
                receiveTimeoutMilliseconds: 200
            ))
        }
        localAddress = sockets[0].localAddress
        workerCount = count
        if count > 1 {
            // Best effort: without it the kernel spreads by address and port.
            _ = sockets[0].steerBySourceAddress(workers: count)
        }
        var threads: [DaemonThread] = []
        for (worker, socket) in sockets.enumerated() {
            let box = SocketBox(socket)
            // Counters are published per worker under a key unique across listen addresses.
            let key = Self.counterKeys(ofLoop: index).lowerBound + worker
            do {
                threads.append(try DaemonThread.starting(name: "ntp server \(worker)") {
                    Self.serve(socket: box.socket, configuration: perWorker, smear: smear, state: state, stop: stop, key: key)
                })
            } catch {
                stop.set()
                for thread in threads { thread.join() }
                throw error
            }
        }
        self.threads = threads
    }

    package func join() {
        for thread in threads { thread.join() }
    }

    /// Where the workers of listen address `index` publish their counters (at most 256 workers).
    static func counterKeys(ofLoop index: Int) -> Range<Int> {
        index * 1024..<index * 1024 + 1024
    }

    static func workerConfiguration(_ configuration: NTPServerCore.Configuration, workers: Int) -> NTPServerCore.Configuration {
        var perWorker = configuration
        if let limit = configuration.rateLimit {
            perWorker.rateLimit?.tableSize = max(16, limit.tableSize / workers)
        }
        return perWorker
    }

    static func onlineCores() -> Int {
        max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }

    private static func serve(socket: BatchedServerSocket, configuration: NTPServerCore.Configuration, smear: LeapSmear?, state: ServingState, stop: StopFlag, key: Int) {
        var core = NTPServerCore(configuration: configuration)
        var random = BufferedSystemRandomSource()
        // Counters go to the shared state when idle, every few thousand requests and at the
        // end: a lock per request would cost more than the answer itself.
        var unpublished = 0
        // Replies sent with a transmit timestamp requested whose timestamp has not been read:
        // the error queue is only polled while there are some.
        var awaitedTransmitTimestamps = 0
        var served = ServedTime(clock: state.servedClock, smear: smear)
        var seenUpdates = state.updateCount
        var (clock, keyset) = Self.workerCopy(of: state, smear: smear, into: &served)
        func collectTransmitTimestamps(justSent: Bool) {
            let read = socket.readTransmitTimestamps { receiveField, sentAt in
                core.recordTransmit(ofResponseWithReceive: NTPTimestamp(rawValue: receiveField),
                                    at: NTPTimestamp(served.time(atSystemTime: sentAt)))
            }
            // Right after sending, a card may not have reported yet; a batch later, whatever
            // is still missing was lost (the error queue is bounded) and is not waited for.
            awaitedTransmitTimestamps = read == 0 && !justSent ? 0 : max(0, awaitedTransmitTimestamps - read)
        }
        defer { state.publish(core.counters, loop: key) }
        while !stop.isSet {
            let count = socket.receive()
            guard count > 0 else {
                if unpublished > 0 { state.publish(core.counters, loop: key); unpublished = 0 }
                continue
            }
            // Transmit times of earlier replies first: an interleaved request may ask for them.
            if awaitedTransmitTimestamps > 0 { collectTransmitTimestamps(justSent: false) }
            // The discipline and the keyset change seldom: this worker's copy is renewed only
            // after an update (one atomic load per batch, no lock).
            let updates = state.updateCount
            if updates != seenUpdates {
                (clock, keyset) = Self.workerCopy(of: state, smear: smear, into: &served)
                seenUpdates = updates
            }
            let now = monotonicNanoseconds()
            // When the oldest queued reply read its T3: replies wait for the batch's sendmmsg,
            // and a T3 that waits long is a T3 that lies. Past the bound, send what is queued.
            var oldestQueuedAt: Int64?
            for message in 0..<count {
                guard let client = socket.sender(message) else { continue }
                let (request, truncated) = socket.request(message)
                let systemTime = socket.receiveTime(message) ?? WallClock.now()
                let answer = core.decide(
                    request: request, truncated: truncated, client: client,
                    receiveTime: NTPTimestamp(served.time(atSystemTime: systemTime)), monotonicNanoseconds: now,
                    state: clock, keyset: keyset, random: &random,
                    reply: socket.replyBuffer(message), transmitTime: { NTPTimestamp(served.now()) }
                )
                guard answer.replyLength > 0 else { continue }
                let timestamp = answer.wantsTransmitTimestamp
                socket.queueReply(message, length: answer.replyLength, timestampTransmit: timestamp)
                if timestamp { awaitedTransmitTimestamps += 1 }
                let queuedAt = monotonicNanoseconds()
                if let oldest = oldestQueuedAt {
                    if queuedAt - oldest > Self.maximumReplyWaitNanoseconds {
                        socket.sendReplies()
                        oldestQueuedAt = nil
                    }
                } else {
                    oldestQueuedAt = queuedAt
                }
            }
            socket.sendReplies()
            if awaitedTransmitTimestamps > 0 { collectTransmitTimestamps(justSent: true) }
            unpublished += count
            if unpublished >= 4096 { state.publish(core.counters, loop: key); unpublished = 0 }
        }
    }

    /// A worker's own copy of what it serves.
    private static func workerCopy(of state: ServingState, smear: LeapSmear?, into served: inout ServedTime) -> (ServerClockState, CookieKeyset?) {
        var (clock, keyset, smearedLeap) = state.servingSnapshot
        served.leap = smearedLeap
        // Clients of a smearing listener never see a leap second: announcing one as well
        // would have them take it out a second time.
        if smear != nil && clock.leap != .unsynchronized { clock.leap = .none }
        return (clock, keyset)
    }

    static func monotonicNanoseconds() -> Int64 {
        let (seconds, attoseconds) = MonotonicClock.now().components
        return seconds &* 1_000_000_000 &+ attoseconds / 1_000_000_000
    }
}

/// A socket moves to its serving thread once and is used only there.
private final class SocketBox: @unchecked Sendable {
    let socket: BatchedServerSocket
    init(_ socket: BatchedServerSocket) { self.socket = socket }
}
