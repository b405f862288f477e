import Foundation
import PendulumIO
import PendulumNTP
import PendulumTime

/// A UDP "server" on loopback that answers each NTP request with packets chosen by a script:
/// the hostile replies a client must survive. It serves a bounded number of requests and stops
/// by itself after `lifetime`.
final class ScriptedResponder: @unchecked Sendable {
    enum Reply: Sendable {
        case truncated, oversized, wrongMode, wrongOrigin, garbage
        case valid(stratum: UInt8)
        case kissOfDeath(String)
        case unsynchronized
    }

    let address: SocketAddress
    private let socket: TimestampedUDPSocket
    private let script: [Reply]
    private let thread: Thread?
    private let finished = DispatchSemaphore(value: 0)

    init(ip: String = "127.0.0.1", replies: [Reply], maximumRequests: Int = 16, lifetime: TimeInterval = 10) throws {
        let family: SocketAddress.Family = ip.contains(":") ? .ipv6 : .ipv4
        socket = try TimestampedUDPSocket(family: family)
        guard let any = SocketAddress(ip: ip, port: 0) else { throw SystemCallError("address", code: 0) }
        try socket.bind(to: any)
        address = try socket.localAddress()
        script = replies
        thread = nil
        let worker = Thread { [self] in
            self.serve(maximumRequests: maximumRequests, until: Date().addingTimeInterval(lifetime))
            self.finished.signal()
        }
        worker.start()
    }

    private func serve(maximumRequests: Int, until deadline: Date) {
        var served = 0
        while served < maximumRequests, Date() < deadline {
            guard let datagram = try? socket.receive(timeout: .milliseconds(100)),
                  let request = try? NTPPacket(parsing: datagram.bytes) else { continue }
            served += 1
            for reply in script {
                _ = try? socket.send(bytes(for: reply, answering: request.header, at: datagram.timestamp.time), to: datagram.sender)
            }
        }
    }

    private func bytes(for reply: Reply, answering request: NTPHeader, at now: UnixTime) -> [UInt8] {
        let time = NTPTimestamp(now)
        var header = NTPHeader(
            leap: .none, mode: .server, stratum: 7, poll: request.poll, precision: -20,
            referenceID: ReferenceID(ipv4: (192, 0, 2, 7)), referenceTimestamp: time - .seconds(1),
            originTimestamp: request.transmitTimestamp, receiveTimestamp: time, transmitTimestamp: time
        )
        switch reply {
        case .truncated:
            return Array(NTPPacket(header: header).serialized().prefix(40))
        case .oversized:
            // A well-formed-looking reply buried in 4 KiB of extension fields and junk.
            return NTPPacket(header: header).serialized() + Array(repeating: 0xEE, count: 4000)
        case .wrongMode:
            header.mode = .symmetricPassive
        case .wrongOrigin:
            // Claims a wildly different time: accepting it would be visible.
            header.originTimestamp = NTPTimestamp(rawValue: request.transmitTimestamp.rawValue &+ 1)
            header.receiveTimestamp = time + .seconds(3600)
            header.transmitTimestamp = time + .seconds(3600)
        case .garbage:
            return (0..<64).map { UInt8(truncatingIfNeeded: $0 &* 37) }
        case .valid(let stratum):
            header.stratum = stratum
        case .kissOfDeath(let code):
            header.stratum = 0
            header.referenceID = ReferenceID(ascii: code)
        case .unsynchronized:
            header.leap = .unsynchronized
            header.stratum = 16
        }
        return NTPPacket(header: header).serialized()
    }

    /// Blocks until the responder's thread has ended (bounded by its lifetime).
    func waitUntilFinished() {
        finished.wait()
    }
}
