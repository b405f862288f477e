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
        let socket = try ServerUDPSocket(listen: listen, receiveTimeoutMilliseconds: 200)
        localAddress = socket.localAddress
        let box = SocketBox(socket)
        thread = try DaemonThread {
            Self.serve(socket: box.socket, configuration: configuration, state: state, stop: stop, index: index)
        }
    }

    public func join() { thread.join() }

    private static func serve(socket: ServerUDPSocket, configuration: NTPServerCore.Configuration, state: ServingState, stop: StopFlag, index: Int) {
        var core = NTPServerCore(configuration: configuration)
        var random = SystemRandomSource()
        // One byte over the limit: a datagram that fills the buffer is known to be oversized.
        var buffer = [UInt8](repeating: 0, count: configuration.maximumRequestBytes + 1)
        // Counters go to the shared state when idle, every few thousand requests and at the
        // end: a lock per request would cost more than the answer itself.
        var unpublished = 0
        let servedClock = state.servedClock
        defer { state.publish(core.counters, loop: index) }
        while !stop.isSet {
            guard let datagram = socket.receive(into: &buffer) else {
                if unpublished > 0 { state.publish(core.counters, loop: index); unpublished = 0 }
                continue
            }
            let (clock, keyset) = state.snapshot
            let decision = core.decide(
                request: Array(buffer.prefix(datagram.length)), client: datagram.sender.addressBytes,
                receiveTime: NTPTimestamp(servedClock.time(atSystemTime: datagram.receivedAt)), monotonicNanoseconds: monotonicNanoseconds(),
                state: clock, keyset: keyset, random: &random,
                transmitTime: { NTPTimestamp(servedClock.now()) }
            )
            if let reply = decision.reply { socket.send(reply, to: datagram.sender) }
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
    let socket: ServerUDPSocket
    init(_ socket: ServerUDPSocket) { self.socket = socket }
}
