import CPendulumShim
import Glibc
import PendulumTime

/// A PTP message as it arrived on a port, with its receive timestamp (system clock).
public struct ReceivedPTPMessage: Sendable {
    public var bytes: [UInt8]
    public var timestamp: PacketTimestamp
}

/// The sockets of one PTP port on one interface: for UDP an event socket (port 319) and a
/// general socket (port 320), for Ethernet one packet socket; multicast only, bound to the
/// interface, with software timestamps (transmit timestamps read back from the error queue and
/// matched to the message by the kernel's per-socket send counter).
///
/// Hardware timestamping is opt-in: `hardwareTimestampingAvailable` reports whether the
/// interface can (ETHTOOL_GET_TS_INFO) and `enableHardwareTimestamping()` switches it on, after
/// which every timestamp is a reading of the interface's PTP hardware clock (source `.hardware`).
public final class PTPPortSockets {
    public let interface: String
    public let network: PTPNetwork
    /// Descriptors to poll for input; the daemon passes the ready one to `receive(from:)`.
    public let descriptors: [Int32]
    private let eventDescriptor: Int32
    private let generalDescriptor: Int32
    private var sendCounters: [Int32: UInt32] = [:]
    /// The interface's MAC address, from which the clock identity is derived.
    public let macAddress: [UInt8]
    /// How long to wait for a transmit timestamp before giving up on the message's timestamp.
    public var transmitTimestampWait: Duration = .milliseconds(50)

    public init(interface: String, network: PTPNetwork) throws(SystemCallError) {
        self.interface = interface
        self.network = network
        var mac = [UInt8](repeating: 0, count: 6)
        let macResult = mac.withUnsafeMutableBufferPointer { pendulum_interface_mac(interface, $0.baseAddress) }
        guard macResult == 0 else { throw SystemCallError("hardware address of \(interface)", code: -macResult) }
        macAddress = mac
        switch network {
        case .ipv4, .ipv6:
            let family = network == .ipv4 ? AF_INET : AF_INET6
            let event = pendulum_ptp_udp_open(family, interface, PTPNetwork.eventPort, network.primaryGroup, network.peerDelayGroup)
            guard event >= 0 else { throw SystemCallError("PTP event socket on \(interface)", code: -event) }
            let general = pendulum_ptp_udp_open(family, interface, PTPNetwork.generalPort, network.primaryGroup, network.peerDelayGroup)
            guard general >= 0 else {
                close(event)
                throw SystemCallError("PTP general socket on \(interface)", code: -general)
            }
            eventDescriptor = event
            generalDescriptor = general
            descriptors = [event, general]
        case .ethernet:
            let fd = PTPNetwork.primaryMAC.withUnsafeBufferPointer { primary in
                PTPNetwork.peerDelayMAC.withUnsafeBufferPointer { peerDelay in
                    pendulum_ptp_ethernet_open(interface, primary.baseAddress, peerDelay.baseAddress)
                }
            }
            guard fd >= 0 else { throw SystemCallError("PTP packet socket on \(interface)", code: -fd) }
            eventDescriptor = fd
            generalDescriptor = fd
            descriptors = [fd]
        }
    }

    deinit {
        close(eventDescriptor)
        if generalDescriptor != eventDescriptor { close(generalDescriptor) }
    }

    /// Whether the interface reports hardware transmit and receive timestamping, and its PHC.
    public static func hardwareTimestampingAvailable(interface: String) -> (available: Bool, phcIndex: Int32?) {
        var index: Int32 = -1
        let result = pendulum_interface_hardware_timestamping(interface, &index)
        return (result == 1, index >= 0 ? index : nil)
    }

    /// Switches the interface to hardware timestamps (SIOCSHWTSTAMP) and these sockets to
    /// SOF_TIMESTAMPING_{TX,RX,RAW}_HARDWARE. Returns the receive filter the driver applied.
    @discardableResult
    public func enableHardwareTimestamping() throws(SystemCallError) -> Int32 {
        var filter: Int32 = 0
        for descriptor in Set(descriptors) {
            let result = pendulum_ptp_enable_hardware_timestamping(descriptor, interface, &filter)
            guard result == 0 else { throw SystemCallError("hardware timestamping on \(interface) (SIOCSHWTSTAMP)", code: -result) }
        }
        return filter
    }

    /// Sends one PTP message. For event messages returns the kernel transmit timestamp (nil if
    /// none arrived in time: the caller then has no t1/t3 for it and must not invent one).
    @discardableResult
    public func send(_ bytes: [UInt8], event: Bool, peerDelay: Bool) throws(SystemCallError) -> PacketTimestamp? {
        let descriptor = event ? eventDescriptor : generalDescriptor
        let sent: Int
        switch network {
        case .ipv4, .ipv6:
            let family = network == .ipv4 ? AF_INET : AF_INET6
            let group = peerDelay ? network.peerDelayGroup : network.primaryGroup
            let port = event ? PTPNetwork.eventPort : PTPNetwork.generalPort
            sent = bytes.withUnsafeBytes { raw in
                pendulum_ptp_udp_send(descriptor, family, interface, group, port, raw.baseAddress, raw.count)
            }
        case .ethernet:
            let destination = peerDelay ? PTPNetwork.peerDelayMAC : PTPNetwork.primaryMAC
            sent = destination.withUnsafeBufferPointer { mac in
                bytes.withUnsafeBytes { raw in
                    pendulum_ptp_ethernet_send(descriptor, interface, mac.baseAddress, raw.baseAddress, raw.count)
                }
            }
        }
        guard sent >= 0 else { throw SystemCallError("send PTP message on \(interface)", code: Int32(-sent)) }
        // OPT_ID counts every send on the socket, event or not.
        let id = sendCounters[descriptor, default: 0]
        sendCounters[descriptor] = id &+ 1
        guard event else { return nil }
        return awaitTransmitTimestamp(descriptor: descriptor, id: id)
    }

    private func awaitTransmitTimestamp(descriptor: Int32, id: UInt32) -> PacketTimestamp? {
        let deadline = MonotonicClock.now() + transmitTimestampWait
        while true {
            var stamp = timespec()
            var kind: Int32 = 0
            var stampID: UInt32 = 0
            let result = pendulum_ptp_recv_transmit_timestamp(descriptor, &stamp, &kind, &stampID)
            if result == 1 && stampID == id {
                let source: PacketTimestamp.Source = kind == Int32(PENDULUM_TS_HARDWARE.rawValue) ? .hardware : .kernel
                return PacketTimestamp(time: UnixTime(stamp), source: source)
            }
            if result == -EAGAIN {
                let remaining = deadline - MonotonicClock.now()
                guard remaining > .zero else { return nil }
                var poller = pollfd(fd: descriptor, events: 0, revents: 0)
                _ = poll(&poller, 1, Int32(max(1, remaining.milliseconds)))
                if poller.revents & Int16(POLLERR) == 0 { return nil }
            } else if result < 0 && result != -EINTR {
                return nil
            }
            // An older send's timestamp or something else: keep draining.
        }
    }

    /// Reads one message from a ready descriptor without blocking; nil when there was none (or
    /// only transmit timestamps nobody waited for, which are dropped).
    public func receive(from descriptor: Int32) -> ReceivedPTPMessage? {
        var buffer = [UInt8](repeating: 0, count: 1600)
        var storage = sockaddr_storage()
        var addressLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
        var stamp = timespec()
        var kind: Int32 = 0
        let received = buffer.withUnsafeMutableBytes { raw in
            pendulum_recv_timestamped(descriptor, raw.baseAddress, raw.count, &storage, &addressLength, &stamp, &kind,
                                      Int32(MSG_DONTWAIT))
        }
        let userSpaceTime = WallClock.now()
        if received < 0 {
            // Nothing to read but POLLERR: stale transmit timestamps.
            var stale = timespec(), staleKind: Int32 = 0, staleID: UInt32 = 0
            while pendulum_ptp_recv_transmit_timestamp(descriptor, &stale, &staleKind, &staleID) >= 0 {}
            return nil
        }
        var length = min(received, buffer.count)
        var start = 0
        if network == .ethernet {
            // A raw packet socket delivers the Ethernet header; an 802.1Q tag adds four bytes.
            guard length >= 14 else { return nil }
            start = 14
            if buffer[12] == 0x81 && buffer[13] == 0x00 {
                guard length >= 18, buffer[16] == 0x88, buffer[17] == 0xF7 else { return nil }
                start = 18
            }
            length -= start
        }
        let timestamp: PacketTimestamp
        switch kind {
        case Int32(PENDULUM_TS_HARDWARE.rawValue): timestamp = PacketTimestamp(time: UnixTime(stamp), source: .hardware)
        case Int32(PENDULUM_TS_KERNEL_SOFTWARE.rawValue): timestamp = PacketTimestamp(time: UnixTime(stamp), source: .kernel)
        default: timestamp = PacketTimestamp(time: userSpaceTime, source: .userSpace)
        }
        return ReceivedPTPMessage(bytes: Array(buffer[start..<(start + length)]), timestamp: timestamp)
    }
}
