import Foundation
import PendulumIO
import PendulumNTP
import PendulumTime

/// A plain NTP server on loopback that answers every request with the system time plus an
/// offset the test sets: zero to let a client synchronise, then a jump of an hour or ten years,
/// as a man in the middle or a bad server would. Bounded: it stops by itself after `lifetime`.
final class JumpingNTPServer: @unchecked Sendable {
    let port: UInt16
    private let socket: TimestampedUDPSocket
    private let offset = NSLock()
    private var offsetSeconds = 0.0
    private let stopped = DispatchSemaphore(value: 0)

    init(lifetime: TimeInterval = 120) throws {
        socket = try TimestampedUDPSocket(family: .ipv4)
        guard let any = SocketAddress(ip: "127.0.0.1", port: 0) else { throw SystemCallError("address", code: 0) }
        try socket.bind(to: any)
        port = try socket.localAddress().port
        let deadline = Date().addingTimeInterval(lifetime)
        Thread { [self] in
            while Date() < deadline {
                guard let datagram = try? socket.receive(timeout: .milliseconds(100)),
                      let request = try? NTPPacket(parsing: datagram.bytes), request.header.mode == .client else { continue }
                _ = try? socket.send(reply(to: request.header, receivedAt: datagram.timestamp.time), to: datagram.sender)
            }
            stopped.signal()
        }.start()
    }

    /// From now on, answer this far from the true time.
    func jump(toSeconds seconds: Double) {
        offset.withLock { offsetSeconds = seconds }
    }

    private func reply(to request: NTPHeader, receivedAt now: UnixTime) -> [UInt8] {
        let shift = offset.withLock { offsetSeconds }
        let time = NTPTimestamp(now) + NTPDuration(approximateSeconds: shift)
        let header = NTPHeader(
            leap: .none, mode: .server, stratum: 2, poll: request.poll, precision: -20,
            referenceID: ReferenceID(ipv4: (192, 0, 2, 9)), referenceTimestamp: time - .seconds(1),
            originTimestamp: request.transmitTimestamp, receiveTimestamp: time, transmitTimestamp: time
        )
        return NTPPacket(header: header).serialized()
    }
}
