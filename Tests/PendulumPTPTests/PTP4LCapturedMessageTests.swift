import Testing
import PendulumTime
@testable import PendulumPTP

/// Messages captured from linuxptp's ptp4l (free-running, software timestamps, E2E and -P) in a
/// private network namespace: our parser must read a real peer's bytes and write them back
/// unchanged.
@Suite struct PTP4LCapturedMessageTests {
    static func bytes(_ hex: String) -> [UInt8] {
        var result: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            result.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        return result
    }

    static let ptp4lPort = PortIdentity(clockIdentity: ClockIdentity(rawValue: 0x0000_00FF_FE00_0000), portNumber: 1)

    @Test func sync() throws {
        let wire = Self.bytes("0002002c00000200000000000000000000000000000000fffe0000000001000000ff00000000000000000000")
        let message = try PTPMessage(parsing: wire)
        #expect(message.body == .sync(originTimestamp: .zero))
        #expect(message.header.flags == .twoStep)
        #expect(message.header.version == 2 && message.header.minorVersion == 0)
        #expect(message.header.sourcePortIdentity == Self.ptp4lPort)
        #expect(message.header.logMessageInterval == -1 && message.header.controlField == 0)
        #expect(message.serialized() == wire)
    }

    @Test func followUp() throws {
        let wire = Self.bytes("0802002c00000000000000000000000000000000000000fffe0000000001000002ff00006b066a3719a5918b")
        let message = try PTPMessage(parsing: wire)
        #expect(message.body == .followUp(preciseOriginTimestamp: PTPTimestamp(seconds: 0x6B06_6A37, nanoseconds: 0x19A5_918B)))
        #expect(message.header.controlField == 2 && message.header.logMessageInterval == -1)
        #expect(message.serialized() == wire)
    }

    @Test func announce() throws {
        let wire = Self.bytes(
            "0b02004000000000000000000000000000000000000000fffe0000000001000005000000000000000000000000250080f8feffff80000000fffe0000000000a0")
        let message = try PTPMessage(parsing: wire)
        guard case .announce(let body) = message.body else { Issue.record("not an Announce"); return }
        #expect(body.currentUtcOffset == 37)
        #expect(body.grandmasterPriority1 == 128 && body.grandmasterPriority2 == 128)
        #expect(body.grandmasterClockQuality == ClockQuality(clockClass: 248, clockAccuracy: 0xFE, offsetScaledLogVariance: 0xFFFF))
        #expect(body.grandmasterIdentity == Self.ptp4lPort.clockIdentity)
        #expect(body.stepsRemoved == 0 && body.timeSource == TimeSource.internalOscillator)
        #expect(message.header.logMessageInterval == 0 && message.header.controlField == 5)
        #expect(message.serialized() == wire)
    }

    @Test func peerDelayRequest() throws {
        let wire = Self.bytes(
            "0202003600000000000000000000000000000000000000fffe00000000010000057f0000000000000000000000000000000000000000")
        let message = try PTPMessage(parsing: wire)
        #expect(message.body == .pdelayReq(originTimestamp: .zero, reserved: PTPReservedBytes()))
        #expect(message.header.logMessageInterval == 0x7F)
        #expect(message.serialized() == wire)
    }

    @Test func ourSlaveSelectsPtp4lAsMaster() {
        var instance = PTPInstance(defaults: DefaultDataset(clockIdentity: ClockIdentity(rawValue: 0xAA), slaveOnly: true),
                                   ports: [PTPPortConfiguration(portNumber: 1)])
        _ = instance.start(at: .zero)
        let announce = Self.bytes(
            "0b02004000000000000000000000000000000000000000fffe0000000001000005000000000000000000000000250080f8feffff80000000fffe0000000000a0")
        _ = instance.receive(announce, onPort: 1, ingress: nil, at: .zero)
        _ = instance.receive(announce, onPort: 1, ingress: nil, at: PTPInstant(nanoseconds: 1_000_000_000))
        #expect(instance.port(1)?.state == .uncalibrated)
        #expect(instance.parent.parentPortIdentity == Self.ptp4lPort)
        #expect(instance.counters.malformed == 0)
    }
}
