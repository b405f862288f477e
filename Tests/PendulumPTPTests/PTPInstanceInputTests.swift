import Testing
import PendulumTime
@testable import PendulumPTP

/// Drives one instance with hand-made messages: filtering and counting of bad input, one-step
/// Sync, Follow_Up before Sync, one- and two-step peer-delay responders, faults.
@Suite struct PTPInstanceInputTests {
    static let ours = ClockIdentity(rawValue: 0xAA)
    static let masterPort = PortIdentity(clockIdentity: ClockIdentity(rawValue: 0x11), portNumber: 1)
    static let intervals = PTPLogIntervals(logAnnounceInterval: 0, logSyncInterval: 0, logMinDelayReqInterval: 0)
    static let base = PTPTimestamp(seconds: 1_764_000_037, nanoseconds: 0)

    static func slave(mechanism: DelayMechanism = .e2e) -> PTPInstance {
        var instance = PTPInstance(defaults: DefaultDataset(clockIdentity: ours, domainNumber: 5, slaveOnly: true),
                                   ports: [PTPPortConfiguration(portNumber: 1, intervals: intervals, delayMechanism: mechanism)])
        _ = instance.start(at: .zero)
        return instance
    }

    static func fromMaster(_ body: PTPMessageBody, sequenceId: UInt16 = 0, domain: UInt8 = 5, flags: PTPFlags = [],
                           correction: PTPTimeInterval = .zero, source: PortIdentity = masterPort) -> PTPMessage {
        PTPMessage(body, source: source, sequenceId: sequenceId, domainNumber: domain, intervals: intervals,
                   flags: flags, correction: correction)
    }

    static let announce = PTPAnnounceBody(currentUtcOffset: 37, grandmasterPriority1: 128,
                                          grandmasterClockQuality: ClockQuality(clockClass: 6), grandmasterPriority2: 128,
                                          grandmasterIdentity: ClockIdentity(rawValue: 0x11), stepsRemoved: 0,
                                          timeSource: TimeSource.gnss)

    /// Two Announces a second apart: the master qualifies and the port goes UNCALIBRATED.
    static func selectMaster(_ instance: inout PTPInstance) {
        _ = instance.receive(fromMaster(.announce(announce), sequenceId: 0).serialized(), onPort: 1, ingress: nil, at: .zero)
        _ = instance.receive(fromMaster(.announce(announce), sequenceId: 1).serialized(), onPort: 1, ingress: nil,
                             at: PTPInstant(nanoseconds: 1_000_000_000))
    }

    static func measurements(_ actions: [PTPAction]) -> [PTPMeasurement] {
        actions.compactMap { if case .offsetMeasured(let m) = $0 { m } else { nil } }
    }

    @Test func badInputIsDroppedAndCounted() {
        var instance = Self.slave()
        let now = PTPInstant.zero
        _ = instance.receive([0x0B, 0x02, 0x00], onPort: 1, ingress: nil, at: now)
        #expect(instance.counters.malformed == 1)
        // A TLV whose length runs past the message.
        var overrun = Self.fromMaster(.announce(Self.announce)).serialized() + [0x00, 0x08, 0x00, 0x40]
        overrun[3] = UInt8(overrun.count)
        _ = instance.receive(overrun, onPort: 1, ingress: nil, at: now)
        #expect(instance.counters.malformed == 2)
        _ = instance.receive(Self.fromMaster(.announce(Self.announce), domain: 6).serialized(), onPort: 1, ingress: nil, at: now)
        #expect(instance.counters.wrongDomain == 1)
        var otherSdo = Self.fromMaster(.announce(Self.announce))
        otherSdo.header.sdoId = 0x100
        _ = instance.receive(otherSdo.serialized(), onPort: 1, ingress: nil, at: now)
        #expect(instance.counters.wrongDomain == 2)
        let looped = Self.fromMaster(.announce(Self.announce), source: PortIdentity(clockIdentity: Self.ours, portNumber: 1))
        _ = instance.receive(looped.serialized(), onPort: 1, ingress: nil, at: now)
        #expect(instance.counters.ownMessages == 1)
        let impossible = Self.fromMaster(.sync(originTimestamp: PTPTimestamp(seconds: 1, nanoseconds: 1_000_000_000)))
        _ = instance.receive(impossible.serialized(), onPort: 1, ingress: Self.base, at: now)
        #expect(instance.counters.impossibleTimestamps == 1)
        _ = instance.receive(Self.fromMaster(.sync(originTimestamp: .zero)).serialized(), onPort: 1,
                             ingress: PTPTimestamp(seconds: 1, nanoseconds: 2_000_000_000), at: now)
        #expect(instance.counters.impossibleTimestamps == 2)
        // Nothing of that reached the foreign-master table.
        #expect(instance.port(1)?.foreignMasters.records.isEmpty == true)
        #expect(instance.counters.received == 7)
    }

    @Test func unknownTLVsAreSkippedAndTheMessageStillCounts() {
        var instance = Self.slave()
        let withTLV = Self.fromMaster(.announce(Self.announce)).serializedWithTLV(PTPTLV(type: 0x2000, value: [1, 2, 3, 4]))
        _ = instance.receive(withTLV, onPort: 1, ingress: nil, at: .zero)
        #expect(instance.counters.tlvsSkipped == 1)
        #expect(instance.port(1)?.foreignMasters.records.count == 1)
    }

    @Test func syncFromSomeoneOtherThanTheParentIsIgnored() {
        var instance = Self.slave()
        Self.selectMaster(&instance)
        #expect(instance.port(1)?.state == .uncalibrated)
        let stranger = PortIdentity(clockIdentity: ClockIdentity(rawValue: 0x22), portNumber: 1)
        _ = instance.receive(Self.fromMaster(.sync(originTimestamp: Self.base), source: stranger).serialized(), onPort: 1,
                             ingress: Self.base, at: .zero)
        #expect(instance.counters.ignored == 1)
    }

    /// Completes one E2E exchange: Delay_Req timer, its transmit timestamp t3, and Delay_Resp with t4.
    static func exchangeDelay(_ instance: inout PTPInstance, t3: PTPTimestamp, t4: PTPTimestamp,
                              correction: PTPTimeInterval = .zero) -> [PTPAction] {
        let actions = instance.timerExpired(.delayRequest, port: 1, at: .zero)
        guard case .send(let request) = actions.first else { return [] }
        #expect(request.message.messageType == .delayReq)
        #expect(request.message.header.logMessageInterval == 0x7F)
        #expect(request.message.header.domainNumber == 5)
        _ = instance.transmitted(port: 1, messageType: .delayReq, sequenceId: request.message.header.sequenceId, egress: t3, at: .zero)
        let response = fromMaster(.delayResp(receiveTimestamp: t4, requestingPortIdentity: PortIdentity(clockIdentity: ours, portNumber: 1)),
                                  sequenceId: request.message.header.sequenceId, correction: correction)
        return instance.receive(response.serialized(), onPort: 1, ingress: nil, at: .zero)
    }

    @Test func oneStepSyncWithCorrectionsGivesTheExactOffset() throws {
        var instance = Self.slave()
        Self.selectMaster(&instance)
        // Path 1000 ns each way, our clock 500 ns ahead; a transparent clock adds 0.5 ns residence
        // to Sync and 1.25 ns to Delay_Req (reported back in Delay_Resp's correction).
        let halfNanosecond = PTPTimeInterval(scaledNanoseconds: 0x8000)
        let t1 = Self.base
        let t2 = Self.base.adding(nanoseconds: 1_500)  // 1000 path + 500 offset (+0.5 residence, sub-ns)
        let sync = Self.fromMaster(.sync(originTimestamp: t1), sequenceId: 1, correction: halfNanosecond)
        #expect(Self.measurements(instance.receive(sync.serialized(), onPort: 1, ingress: t2, at: .zero)).isEmpty)
        let delayActions = Self.exchangeDelay(&instance, t3: Self.base.adding(nanoseconds: 10_500),
                                              t4: Self.base.adding(nanoseconds: 11_001),
                                              correction: PTPTimeInterval(scaledNanoseconds: 0x1_4000))
        // ((1500 − 0.5) + (501 − 1.25)) / 2 = 999.625 ns.
        #expect(delayActions == [.pathDelayMeasured(port: 1, meanPathDelay: PTPTimeInterval(scaledNanoseconds: 999 * 65_536 + 0xA000),
                                                    masterToSlave: PTPTimeInterval(scaledNanoseconds: 1_499 * 65_536 + 0x8000),
                                                    slaveToMaster: PTPTimeInterval(scaledNanoseconds: 499 * 65_536 + 0xC000))])
        let next = Self.fromMaster(.sync(originTimestamp: Self.base.adding(nanoseconds: 1_000_000_000)), sequenceId: 2,
                                   correction: halfNanosecond)
        let actions = instance.receive(next.serialized(), onPort: 1, ingress: Self.base.adding(nanoseconds: 1_000_001_500), at: .zero)
        let measurement = try #require(Self.measurements(actions).first)
        // 1499.5 − 999.625 = 499.875 ns.
        #expect(measurement.offsetFromMaster == PTPTimeInterval(scaledNanoseconds: 499 * 65_536 + 0xE000))
        #expect(measurement.masterToSlave == PTPTimeInterval(scaledNanoseconds: 1_499 * 65_536 + 0x8000))
        #expect(measurement.offsetFromMasterNanoseconds == 500)  // 1500 − round(0.5 + 999.625)
        #expect(instance.port(1)?.state == .slave)
        #expect(instance.current.offsetFromMaster == measurement.offsetFromMaster)
    }

    @Test func delayResponseOvertakingTheTransmitTimestampAndResponsesForOthers() throws {
        var instance = Self.slave()
        Self.selectMaster(&instance)
        _ = instance.receive(Self.fromMaster(.sync(originTimestamp: Self.base), sequenceId: 1).serialized(), onPort: 1,
                             ingress: Self.base.adding(nanoseconds: 3_000), at: .zero)
        let actions = instance.timerExpired(.delayRequest, port: 1, at: .zero)
        guard case .send(let request) = actions.first else { Issue.record("no Delay_Req"); return }
        let sequenceId = request.message.header.sequenceId
        let someoneElse = PortIdentity(clockIdentity: ClockIdentity(rawValue: 0xBB), portNumber: 1)
        let notOurs = Self.fromMaster(.delayResp(receiveTimestamp: Self.base, requestingPortIdentity: someoneElse), sequenceId: sequenceId)
        #expect(instance.receive(notOurs.serialized(), onPort: 1, ingress: nil, at: .zero).isEmpty)
        #expect(instance.counters.ignored == 1)
        let ours = Self.fromMaster(.delayResp(receiveTimestamp: Self.base.adding(nanoseconds: 11_000),
                                              requestingPortIdentity: PortIdentity(clockIdentity: Self.ours, portNumber: 1)),
                                   sequenceId: sequenceId)
        #expect(instance.receive(ours.serialized(), onPort: 1, ingress: nil, at: .zero).isEmpty)
        // A duplicate of the response is not used twice.
        _ = instance.receive(ours.serialized(), onPort: 1, ingress: nil, at: .zero)
        #expect(instance.counters.ignored == 2)
        let done = instance.transmitted(port: 1, messageType: .delayReq, sequenceId: sequenceId,
                                        egress: Self.base.adding(nanoseconds: 10_000), at: .zero)
        // Legs 3000 and 1000 ns: delay 2000, and our clock is 1000 ns ahead.
        #expect(done == [.pathDelayMeasured(port: 1, meanPathDelay: .nanoseconds(2_000), masterToSlave: .nanoseconds(3_000),
                                            slaveToMaster: .nanoseconds(1_000))])
    }

    @Test func announceThatCrossed255ClocksIsIgnored() {
        var instance = Self.slave()
        var looping = Self.announce
        looping.stepsRemoved = 255
        _ = instance.receive(Self.fromMaster(.announce(looping)).serialized(), onPort: 1, ingress: nil, at: .zero)
        #expect(instance.counters.ignored == 1)
        #expect(instance.port(1)?.foreignMasters.records.isEmpty == true)
    }

    @Test func followUpOvertakingItsSyncIsStillUsed() throws {
        var instance = Self.slave()
        Self.selectMaster(&instance)
        let t1 = Self.base
        let first = Self.fromMaster(.sync(originTimestamp: .zero), sequenceId: 7, flags: .twoStep)
        _ = instance.receive(first.serialized(), onPort: 1, ingress: t1.adding(nanoseconds: 2_000), at: .zero)
        _ = instance.receive(Self.fromMaster(.followUp(preciseOriginTimestamp: t1), sequenceId: 7).serialized(),
                             onPort: 1, ingress: nil, at: .zero)
        _ = Self.exchangeDelay(&instance, t3: t1.adding(nanoseconds: 5_000), t4: t1.adding(nanoseconds: 5_000))
        // Path 1000 ns both ways, our clock 1000 ns ahead.
        #expect(instance.port(1)?.meanPathDelay == .nanoseconds(1_000))
        let t1b = t1.adding(nanoseconds: 1_000_000_000)
        let early = instance.receive(Self.fromMaster(.followUp(preciseOriginTimestamp: t1b), sequenceId: 8).serialized(),
                                     onPort: 1, ingress: nil, at: .zero)
        #expect(Self.measurements(early).isEmpty)
        let late = instance.receive(Self.fromMaster(.sync(originTimestamp: .zero), sequenceId: 8, flags: .twoStep).serialized(),
                                    onPort: 1, ingress: t1b.adding(nanoseconds: 2_000), at: .zero)
        #expect(Self.measurements(late).first?.offsetFromMaster == .nanoseconds(1_000))
    }

    static func peerDelayRequest(_ instance: inout PTPInstance, t1: PTPTimestamp) -> UInt16? {
        let actions = instance.timerExpired(.peerDelayRequest, port: 1, at: .zero)
        guard case .send(let request) = actions.first, request.message.messageType == .pdelayReq else { return nil }
        #expect(request.message.header.logMessageInterval == 0x7F)
        #expect(request.isPeerDelay)
        _ = instance.transmitted(port: 1, messageType: .pdelayReq, sequenceId: request.message.header.sequenceId, egress: t1, at: .zero)
        return request.message.header.sequenceId
    }

    @Test func oneStepPeerDelayResponder() throws {
        var instance = Self.slave(mechanism: .p2p)
        let ourPort = PortIdentity(clockIdentity: Self.ours, portNumber: 1)
        let sequenceId = try #require(Self.peerDelayRequest(&instance, t1: Self.base))
        // Link 800 ns each way, turnaround 3 µs + 0.25 ns, all in the correction of a one-step response.
        let turnaround = PTPTimeInterval.nanoseconds(3_000) + PTPTimeInterval(scaledNanoseconds: 0x4000)
        let response = Self.fromMaster(.pdelayResp(requestReceiptTimestamp: .zero, requestingPortIdentity: ourPort),
                                       sequenceId: sequenceId, correction: turnaround)
        let actions = instance.receive(response.serialized(), onPort: 1, ingress: Self.base.adding(nanoseconds: 4_601), at: .zero)
        // (4601 − 3000.25) / 2 = 800.375 ns.
        #expect(actions == [.peerDelayMeasured(port: 1, meanLinkDelay: PTPTimeInterval(scaledNanoseconds: 800 * 65_536 + 0x6000))])
    }

    @Test func twoStepPeerDelayResponderAndOurOwnResponses() throws {
        var instance = Self.slave(mechanism: .p2p)
        let ourPort = PortIdentity(clockIdentity: Self.ours, portNumber: 1)
        let sequenceId = try #require(Self.peerDelayRequest(&instance, t1: Self.base))
        let t2 = PTPTimestamp(seconds: 50, nanoseconds: 999_999_000)  // the peer's clock is far off: irrelevant
        let response = Self.fromMaster(.pdelayResp(requestReceiptTimestamp: t2, requestingPortIdentity: ourPort),
                                       sequenceId: sequenceId, flags: .twoStep)
        #expect(instance.receive(response.serialized(), onPort: 1, ingress: Self.base.adding(nanoseconds: 7_000), at: .zero).isEmpty)
        let followUp = Self.fromMaster(.pdelayRespFollowUp(responseOriginTimestamp: t2.adding(nanoseconds: 5_000),
                                                           requestingPortIdentity: ourPort),
                                       sequenceId: sequenceId, correction: .nanoseconds(2))
        let actions = instance.receive(followUp.serialized(), onPort: 1, ingress: nil, at: .zero)
        #expect(actions == [.peerDelayMeasured(port: 1, meanLinkDelay: .nanoseconds(999))])  // (7000 − 5000 − 2) / 2

        // As responder we answer two-step, copying sequenceId, requester and the request's correction.
        let request = Self.fromMaster(.pdelayReq(originTimestamp: .zero, reserved: PTPReservedBytes()), sequenceId: 42,
                                      correction: .nanoseconds(3))
        let answer = instance.receive(request.serialized(), onPort: 1, ingress: Self.base, at: .zero)
        guard case .send(let resp) = answer.first else { Issue.record("no Pdelay_Resp"); return }
        #expect(resp.message.body == .pdelayResp(requestReceiptTimestamp: Self.base, requestingPortIdentity: Self.masterPort))
        #expect(resp.message.header.flags.contains(.twoStep) && resp.message.header.sequenceId == 42)
        let follow = instance.transmitted(port: 1, messageType: .pdelayResp, sequenceId: 42,
                                          egress: Self.base.adding(nanoseconds: 10), at: .zero)
        guard case .send(let fu) = follow.first else { Issue.record("no Pdelay_Resp_Follow_Up"); return }
        #expect(fu.message.body == .pdelayRespFollowUp(responseOriginTimestamp: Self.base.adding(nanoseconds: 10),
                                                       requestingPortIdentity: Self.masterPort))
        #expect(fu.message.header.correction == .nanoseconds(3))
        #expect(fu.message.header.logMessageInterval == 0x7F)
    }

    @Test func leapAnnouncedByTheGrandmasterIsReported() {
        var instance = Self.slave()
        Self.selectMaster(&instance)
        #expect(instance.timeProperties.currentUtcOffset == 37 && !instance.timeProperties.leap61)
        let leap = Self.fromMaster(.announce(Self.announce), sequenceId: 2, flags: [.leap61, .currentUtcOffsetValid, .ptpTimescale])
        let actions = instance.receive(leap.serialized(), onPort: 1, ingress: nil, at: PTPInstant(nanoseconds: 2_000_000_000))
        #expect(instance.timeProperties.leap61 && instance.timeProperties.currentUtcOffsetValid)
        #expect(actions.contains(.timePropertiesChanged(instance.timeProperties)))
        // UTC for a CLOCK_REALTIME slave: TAI − currentUtcOffset.
        #expect(Self.base.utc(currentUtcOffset: instance.timeProperties.currentUtcOffset).seconds == 1_764_000_000)
    }

    @Test func faultStopsThePortAndClearingRestartsIt() {
        var instance = Self.slave()
        Self.selectMaster(&instance)
        let actions = instance.fault(port: 1, at: .zero)
        #expect(instance.port(1)?.state == .faulty)
        #expect(actions.contains(.cancelTimer(port: 1, timer: .delayRequest)))
        _ = instance.receive(Self.fromMaster(.announce(Self.announce)).serialized(), onPort: 1, ingress: nil, at: .zero)
        #expect(instance.counters.ignored == 1)
        _ = instance.faultCleared(port: 1, at: .zero)
        #expect(instance.port(1)?.state == .listening)
    }
}

extension PTPMessage {
    func serializedWithTLV(_ tlv: PTPTLV) -> [UInt8] {
        var copy = self
        copy.tlvs.append(tlv)
        return copy.serialized()
    }
}

@Suite struct PTPWideOffsetTests {
    @Test func aClockYearsOffStillGetsAUsableOffset() throws {
        var instance = PTPInstanceInputTests.slave()
        PTPInstanceInputTests.selectMaster(&instance)
        let master = PTPInstanceInputTests.base
        let local = PTPTimestamp(seconds: 100, nanoseconds: 0)  // a clock that booted at 1970
        _ = instance.receive(PTPInstanceInputTests.fromMaster(.sync(originTimestamp: master), sequenceId: 1).serialized(),
                             onPort: 1, ingress: local, at: .zero)
        _ = PTPInstanceInputTests.exchangeDelay(&instance, t3: local.adding(nanoseconds: 10), t4: master.adding(nanoseconds: 10))
        let actions = instance.receive(PTPInstanceInputTests.fromMaster(.sync(originTimestamp: master), sequenceId: 2).serialized(),
                                       onPort: 1, ingress: local, at: .zero)
        let measurement = try #require(PTPInstanceInputTests.measurements(actions).first)
        #expect(measurement.exceedsIntervalRange)
        #expect(measurement.meanPathDelay == .max)
        // Without a usable delay the wide offset is t2 − t1: right to the path delay, which is
        // what the first step needs; the exact figures take over after it.
        #expect(measurement.offsetFromMasterNanoseconds == local.nanoseconds(since: master))
        #expect(measurement.offsetFromMasterNanoseconds < -55 * 365 * 86_400 * 1_000_000_000)
    }
}

@Suite struct UTCOffsetTests {
    @Test func ptpTimescaleAppliesTheAnnouncedOffset() {
        let valid = TimePropertiesDataset(currentUtcOffset: 38, currentUtcOffsetValid: true, ptpTimescale: true)
        #expect(valid.utcOffsetToApply() == 38)
        let unvouched = TimePropertiesDataset(currentUtcOffset: 0, currentUtcOffsetValid: false, ptpTimescale: true)
        #expect(unvouched.utcOffsetToApply() == 37)
        let arbitrary = TimePropertiesDataset(currentUtcOffset: 37, currentUtcOffsetValid: true, ptpTimescale: false)
        #expect(arbitrary.utcOffsetToApply() == 0)
    }

    @Test func ptp4lFreeRunningMasterIsArbitraryTimescale() throws {
        let outcome = PTP4LReplayTests.replay(PTP4LCaptures.e2e, mechanism: .e2e)
        #expect(!outcome.instance.timeProperties.ptpTimescale)
        #expect(outcome.instance.timeProperties.utcOffsetToApply() == 0)
    }
}
