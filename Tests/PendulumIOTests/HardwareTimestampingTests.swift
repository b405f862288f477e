import CPendulumShim
import Glibc
import PendulumIO
import Testing

/// The hardware-timestamping calls on an interface that has none (loopback): the capability
/// check says no, and switching it on fails with an error code instead of pretending. What
/// happens on a NIC that has it cannot be tested here.
@Suite struct HardwareTimestampingTests {
    @Test func loopbackReportsNoHardwareTimestamping() {
        let capability = PTPPortSockets.hardwareTimestampingAvailable(interface: "lo")
        #expect(!capability.available)
    }

    @Test func unknownInterfaceIsNotCapable() {
        #expect(!PTPPortSockets.hardwareTimestampingAvailable(interface: "pendulum-none0").available)
    }

    @Test func switchingItOnWithoutTheCapabilityIsAnError() throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        var filter: Int32 = -1
        let result = pendulum_ptp_enable_hardware_timestamping(fd, "lo", &filter)
        // Drivers without the capability answer EOPNOTSUPP (or EINVAL); never success.
        #expect(result < 0)
        #expect(filter == -1)
    }
}
