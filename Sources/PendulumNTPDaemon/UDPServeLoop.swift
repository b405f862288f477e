import PendulumIO
import PendulumNTPServer
import PendulumNTS
import PendulumTime

/// One listening UDP socket and the thread that answers on it: kernel receive timestamp as T2,
/// the decision from `NTPServerCore`, T3 read while the reply is built, just before the send.
public final class UDPServeLoop: Sendable {
    public let localAddress: SocketAddress
    private let thread: DaemonThread

    /// Binds now (so a busy port fails at startup) and starts answering.
    public init(listen: SocketAddress, configuration: NTPServerCore.Configuration, state: ServingState, stop: StopFlag, index: Int) throws(DaemonError) {
        let socket: TimestampedUDPSocket
        do {
            socket = try TimestampedUDPSocket(family: listen.family)
            try socket.bind(to: listen)
            localAddress = try socket.localAddress()
        } catch {
            throw .startup("cannot listen for NTP on \(listen): \(error)")
        }
        // The server does not use its transmit timestamps yet: do not wait for them.
        socket.transmitTimestampWait = .zero
        let box = SocketBox(socket)
        thread = try DaemonThread {
            Self.serve(socket: box.socket, configuration: configuration, state: state, stop: stop, index: index)
        }
    }

    public func join() { thread.join() }

    private static func serve(socket: TimestampedUDPSocket, configuration: NTPServerCore.Configuration, state: ServingState, stop: StopFlag, index: Int) {
        var core = NTPServerCore(configuration: configuration)
        var random = SystemRandomSource()
        // One byte over the limit: a datagram that fills the buffer is known to be oversized.
        let capacity = configuration.maximumRequestBytes + 1
        // Counters go to the shared state when idle, every few thousand requests and at the
        // end: a lock per request would cost more than the answer itself.
        var unpublished = 0
        defer { state.publish(core.counters, loop: index) }
        while !stop.isSet {
            let received: ReceivedDatagram?
            do {
                received = try socket.receive(timeout: .milliseconds(200), capacity: capacity)
            } catch {
                continue
            }
            guard let datagram = received else {
                if unpublished > 0 { state.publish(core.counters, loop: index); unpublished = 0 }
                continue
            }
            let (clock, keyset) = state.snapshot
            let decision = core.decide(
                request: datagram.bytes, client: datagram.sender.addressBytes,
                receiveTime: NTPTimestamp(datagram.timestamp.time), monotonicNanoseconds: monotonicNanoseconds(),
                state: clock, keyset: keyset, random: &random,
                transmitTime: { NTPTimestamp(WallClock.now()) }
            )
            if let reply = decision.reply {
                _ = try? socket.send(reply, to: datagram.sender)
            }
            unpublished += 1
            if unpublished >= 4096 { state.publish(core.counters, loop: index); unpublished = 0 }
        }
    }

    static func monotonicNanoseconds() -> Int64 {
        let (seconds, attoseconds) = MonotonicClock.now().components
        return seconds &* 1_000_000_000 &+ attoseconds / 1_000_000_000
    }
}

/// The socket moves to its serving thread once and is used only there.
private final class SocketBox: @unchecked Sendable {
    let socket: TimestampedUDPSocket
    init(_ socket: TimestampedUDPSocket) { self.socket = socket }
}
