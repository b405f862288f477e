import Testing
import PendulumTime
@testable import PendulumPTP

/// Issue 7's bad-input list, one kind per test, on an instance that has a master and is
/// mid-synchronisation: malformed TLVs, wrong domains, our own looped-back messages and
/// impossible timestamps are each ignored (no action, no state change) and counted.
@Suite struct PTPInstanceBadInputTests {
    typealias Input = PTPInstanceInputTests

    /// A slave that follows the master (UNCALIBRATED), with its Sync/Delay exchange started.
    static func following() -> PTPInstance {
        var instance = Input.slave()
        Input.selectMaster(&instance)
        return instance
    }

    /// Appends `tail` after the message and makes messageLength cover it.
    static func withTrailing(_ bytes: [UInt8], _ tail: [UInt8]) -> [UInt8] {
        var damaged = bytes + tail
        damaged[2] = UInt8(damaged.count >> 8)
        damaged[3] = UInt8(damaged.count & 0xFF)
        return damaged
    }

    static let ourPort = PortIdentity(clockIdentity: Input.ours, portNumber: 1)

    static let bodies: [PTPMessageBody] = [
        .announce(Input.announce),
        .sync(originTimestamp: Input.base),
        .followUp(preciseOriginTimestamp: Input.base),
        .delayResp(receiveTimestamp: Input.base, requestingPortIdentity: ourPort),
        .signaling(targetPortIdentity: PortIdentity(clockIdentity: ClockIdentity(rawValue: 0xFFFF_FFFF_FFFF_FFFF), portNumber: 0xFFFF)),
        .management(PTPManagementBody(targetPortIdentity: ourPort, startingBoundaryHops: 1, boundaryHops: 1, action: .get)),
    ]

    /// Two kinds of broken TLV area: 2 bytes (no room for a TLV header) and a TLV whose
    /// lengthField runs past the message.
    static let tlvDamage: [[UInt8]] = [[0x00, 0x01], [0x00, 0x03, 0x00, 0x40, 0x01, 0x02]]

    @Test(arguments: bodies, tlvDamage)
    func malformedTLVsAreIgnoredAndCounted(body: PTPMessageBody, damage: [UInt8]) {
        var instance = Self.following()
        let before = instance
        let bytes = Self.withTrailing(Input.fromMaster(body, sequenceId: 7).serialized(), damage)
        let actions = instance.receive(bytes, onPort: 1, ingress: Input.base.adding(nanoseconds: 500), at: .zero)
        #expect(actions.isEmpty)
        #expect(instance.counters.malformed == before.counters.malformed + 1)
        #expect(instance.counters.received == before.counters.received + 1)
        #expect(instance.port(1)?.state == before.port(1)?.state)
        #expect(instance.port(1)?.foreignMasters.records == before.port(1)?.foreignMasters.records)
    }

    @Test(arguments: bodies)
    func wrongDomainIsIgnoredAndCounted(body: PTPMessageBody) {
        var instance = Self.following()
        let before = instance
        let bytes = Input.fromMaster(body, sequenceId: 7, domain: 4).serialized()
        #expect(instance.receive(bytes, onPort: 1, ingress: Input.base.adding(nanoseconds: 500), at: .zero).isEmpty)
        #expect(instance.counters.wrongDomain == before.counters.wrongDomain + 1)
        #expect(instance.port(1)?.state == before.port(1)?.state)
        #expect(instance.port(1)?.foreignMasters.records == before.port(1)?.foreignMasters.records)
    }

    /// Our own messages come back with multicast loopback on, through a switch that reflects,
    /// or (boundary clock) from our other port on the same segment: never a master or a peer.
    @Test(arguments: bodies, [UInt16(1), 2])
    func ownLoopedBackMessagesAreIgnoredAndCounted(body: PTPMessageBody, fromPort: UInt16) {
        var instance = Self.following()
        let before = instance
        let looped = Input.fromMaster(body, sequenceId: 7, source: PortIdentity(clockIdentity: Input.ours, portNumber: fromPort))
        #expect(instance.receive(looped.serialized(), onPort: 1, ingress: Input.base.adding(nanoseconds: 500), at: .zero).isEmpty)
        #expect(instance.counters.ownMessages == before.counters.ownMessages + 1)
        #expect(instance.port(1)?.state == before.port(1)?.state)
        #expect(instance.port(1)?.foreignMasters.records == before.port(1)?.foreignMasters.records)
    }

    static let impossible = PTPTimestamp(seconds: 1_764_000_037, nanoseconds: 1_000_000_000)

    /// nanoseconds ≥ 10⁹ in any message timestamp, or in the kernel's ingress timestamp.
    @Test(arguments: [
        PTPMessageBody.sync(originTimestamp: impossible),
        .followUp(preciseOriginTimestamp: impossible),
        .delayResp(receiveTimestamp: impossible, requestingPortIdentity: ourPort),
        .pdelayResp(requestReceiptTimestamp: impossible, requestingPortIdentity: ourPort),
        .pdelayRespFollowUp(responseOriginTimestamp: impossible, requestingPortIdentity: ourPort),
        .announce({ var body = Input.announce; body.originTimestamp = impossible; return body }()),
    ])
    func impossibleMessageTimestampsAreIgnoredAndCounted(body: PTPMessageBody) {
        var instance = Self.following()
        let before = instance
        let bytes = Input.fromMaster(body, sequenceId: 7).serialized()
        #expect(instance.receive(bytes, onPort: 1, ingress: Input.base.adding(nanoseconds: 500), at: .zero).isEmpty)
        #expect(instance.counters.impossibleTimestamps == before.counters.impossibleTimestamps + 1)
        #expect(instance.port(1)?.foreignMasters.records == before.port(1)?.foreignMasters.records)
    }

    @Test func impossibleIngressAndEgressTimestampsAreIgnoredAndCounted() {
        var instance = Self.following()
        let good = Input.fromMaster(.sync(originTimestamp: Input.base), sequenceId: 8).serialized()
        _ = instance.receive(good, onPort: 1, ingress: Input.base.adding(nanoseconds: 3_000), at: .zero)
        let sync = Input.fromMaster(.sync(originTimestamp: Input.base), sequenceId: 9).serialized()
        #expect(instance.receive(sync, onPort: 1, ingress: Self.impossible, at: .zero).isEmpty)
        #expect(instance.counters.impossibleTimestamps == 1)
        // Our Delay_Req's transmit timestamp from the kernel, impossible: no measurement.
        let request = instance.timerExpired(.delayRequest, port: 1, at: .zero).compactMap { action -> PTPOutgoingMessage? in
            if case .send(let outgoing) = action { outgoing } else { nil }
        }.first
        if let request {
            #expect(instance.transmitted(port: 1, messageType: .delayReq, sequenceId: request.message.header.sequenceId,
                                         egress: Self.impossible, at: .zero).isEmpty)
            #expect(instance.counters.impossibleTimestamps == 2)
        } else {
            Issue.record("no Delay_Req sent")
        }
    }
}

/// A P2P slave whose peer is its master: the two-step Pdelay exchange doubles as a path-delay
/// exchange with the master, reported with its legs so the servo can pair Syncs with them.
@Suite struct PTPPeerDelayLegsTests {
    typealias Input = PTPInstanceInputTests

    static func exchange(_ instance: inout PTPInstance, responder: PortIdentity) throws -> [PTPAction] {
        let ourPort = PortIdentity(clockIdentity: Input.ours, portNumber: 1)
        let t1 = Input.base
        let sequenceId = try #require(Input.peerDelayRequest(&instance, t1: t1))
        // Our clock is 1000 ns ahead of the master's; 800 ns each way; turnaround 5 µs.
        let t2 = t1.adding(nanoseconds: 800 - 1_000)
        let response = Input.fromMaster(.pdelayResp(requestReceiptTimestamp: t2, requestingPortIdentity: ourPort),
                                        sequenceId: sequenceId, flags: .twoStep, source: responder)
        _ = instance.receive(response.serialized(), onPort: 1, ingress: t1.adding(nanoseconds: 800 + 5_000 + 800), at: .zero)
        let followUp = Input.fromMaster(.pdelayRespFollowUp(responseOriginTimestamp: t2.adding(nanoseconds: 5_000),
                                                            requestingPortIdentity: ourPort),
                                        sequenceId: sequenceId, source: responder)
        return instance.receive(followUp.serialized(), onPort: 1, ingress: nil, at: .zero)
    }

    @Test func peerThatIsTheMasterGivesBothLegs() throws {
        var instance = Input.slave(mechanism: .p2p)
        Input.selectMaster(&instance)
        let actions = try Self.exchange(&instance, responder: Input.masterPort)
        #expect(actions == [
            .peerDelayMeasured(port: 1, meanLinkDelay: .nanoseconds(800)),
            // To the master: 800 − 1000; from it: 800 + 1000.
            .pathDelayMeasured(port: 1, meanPathDelay: .nanoseconds(800), masterToSlave: .nanoseconds(1_800),
                               slaveToMaster: .nanoseconds(-200)),
        ])
    }

    /// A peer that is not the master (a transparent clock, or before a master is chosen) has
    /// another clock: only the link delay is reported.
    @Test func otherPeersGiveOnlyTheLinkDelay() throws {
        var listening = Input.slave(mechanism: .p2p)
        #expect(try Self.exchange(&listening, responder: Input.masterPort) == [.peerDelayMeasured(port: 1, meanLinkDelay: .nanoseconds(800))])
        var following = Input.slave(mechanism: .p2p)
        Input.selectMaster(&following)
        let bridge = PortIdentity(clockIdentity: ClockIdentity(rawValue: 0x33), portNumber: 4)
        #expect(try Self.exchange(&following, responder: bridge) == [.peerDelayMeasured(port: 1, meanLinkDelay: .nanoseconds(800))])
    }
}
