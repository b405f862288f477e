import ArgumentParser
import CPendulumShim
import PendulumIO

#if canImport(Glibc)
import Glibc
#endif

/// `pendulum bench reflect`: the kernel's floor for the serving benchmark. It turns NTP requests
/// around with no work of its own, so `pendulum bench serve` can measure, on the same core and
/// in the same run as the servers, the highest rate any UDP server could answer there.
@available(macOS 13, *)
struct BenchReflectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reflect",
        abstract: "Answer NTP requests with no work at all, to measure the kernel's limit.",
        discussion: """
            Not an NTP server: each reply is the request with mode 4, stratum 2 and the \
            request's transmit timestamp as origin, nothing else. Batches of 32 through \
            recvmmsg/sendmmsg, as pendulum-ntpd's workers do. Run it on the core a server \
            would have and load it with `pendulum bench serve` beside the servers. Loopback only; \
            stops by itself after --seconds.
            """
    )

    @Option(help: "HOST:PORT to answer on; a loopback address.")
    var listen: String

    @Option(help: "Seconds to answer for before stopping.")
    var seconds: Double = 60

    @Flag(inversion: .prefixedNo, help: "Ask the kernel for a receive timestamp with each request, as a server needs.")
    var receiveTimestamps = true

    func validate() throws {
        guard seconds > 0, seconds <= 3600 else { throw ValidationError("--seconds must be in (0, 3600]") }
    }

    func run() throws {
        guard let address = Self.loopbackAddress(listen) else {
            throw ValidationError("--listen \(listen): expected a loopback HOST:PORT (127.0.0.0/8 or [::1])")
        }
        let family = address.family == .ipv4 ? AF_INET : AF_INET6
        let fd = pendulum_serve_socket_open(family, 0, 100, 4 << 20)
        guard fd >= 0 else { throw ValidationError("socket: \(String(cString: strerror(-fd)))") }
        defer { close(fd) }
        guard address.withSockaddr({ bind(fd, $0, $1) }) == 0 else {
            throw ValidationError("bind \(listen): \(String(cString: strerror(errno)))")
        }
        // Bound to one address: no destination address needed, as in pendulum-ntpd.
        _ = pendulum_serve_skip_destination_unless_wildcard(fd)
        let answered = pendulum_reflect_for(fd, seconds, receiveTimestamps ? 1 : 0)
        guard answered >= 0 else { throw ValidationError("receive: \(String(cString: strerror(Int32(-answered))))") }
        print("reflected \(answered) requests in \(seconds) s")
    }

    static func loopbackAddress(_ text: String) -> SocketAddress? {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else { return nil }
        let host = NameResolver.unbracketed(String(text[..<colon]))
        guard let address = SocketAddress(ip: host, port: port) else { return nil }
        let bytes = address.addressBytes
        switch address.family {
        case .ipv4: return bytes.first == 127 ? address : nil
        case .ipv6: return bytes == [UInt8](repeating: 0, count: 15) + [1] ? address : nil
        }
    }
}
