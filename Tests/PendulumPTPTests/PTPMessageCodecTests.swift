import Testing
import PendulumTime
@testable import PendulumPTP

@Suite struct PTPMessageCodecTests {
    static let source = PortIdentity(clockIdentity: ClockIdentity(mac: [0x00, 0x11, 0x22, 0x33, 0x44, 0x55]), portNumber: 1)
    static let intervals = PTPLogIntervals(logAnnounceInterval: 1, logSyncInterval: -3, logMinDelayReqInterval: 2)
    static let stamp = PTPTimestamp(seconds: 0x0001_2345_6789, nanoseconds: 987_654_321)

    static let announceBody = PTPAnnounceBody(
        originTimestamp: stamp, currentUtcOffset: 37, grandmasterPriority1: 128,
        grandmasterClockQuality: ClockQuality(clockClass: 6, clockAccuracy: 0x21, offsetScaledLogVariance: 0x4E5D),
        grandmasterPriority2: 127, grandmasterIdentity: ClockIdentity(rawValue: 0x0102_0304_0506_0708),
        stepsRemoved: 3, timeSource: TimeSource.gnss)

    static let everyBody: [PTPMessageBody] = [
        .sync(originTimestamp: stamp),
        .delayReq(originTimestamp: stamp),
        .pdelayReq(originTimestamp: stamp, reserved: PTPReservedBytes()),
        .pdelayResp(requestReceiptTimestamp: stamp, requestingPortIdentity: source),
        .followUp(preciseOriginTimestamp: stamp),
        .delayResp(receiveTimestamp: stamp, requestingPortIdentity: source),
        .pdelayRespFollowUp(responseOriginTimestamp: stamp, requestingPortIdentity: source),
        .announce(announceBody),
        .signaling(targetPortIdentity: .all),
        .management(PTPManagementBody(targetPortIdentity: .all, startingBoundaryHops: 1, boundaryHops: 1, action: .get)),
    ]

    @Test func syncMatchesTheStandardLayoutByteForByte() throws {
        let message = PTPMessage(.sync(originTimestamp: Self.stamp), source: Self.source, sequenceId: 0xBEEF,
                                 domainNumber: 24, intervals: Self.intervals, flags: [.twoStep, .ptpTimescale],
                                 correction: .nanoseconds(-1))
        let bytes = message.serialized()
        let expected: [UInt8] = [
            0x00, 0x12, 0x00, 44, 24, 0x00, 0x02, 0x08,  // type, version 2.1, length, domain, minorSdo, flags
            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00,  // correction −1 ns × 2¹⁶
            0, 0, 0, 0,  // messageTypeSpecific
            0x00, 0x11, 0x22, 0xFF, 0xFE, 0x33, 0x44, 0x55, 0x00, 0x01,  // sourcePortIdentity (EUI-64)
            0xBE, 0xEF, 0x00, 0xFD,  // sequenceId, controlField 0, logMessageInterval −3
            0x00, 0x01, 0x23, 0x45, 0x67, 0x89, 0x3A, 0xDE, 0x68, 0xB1,  // originTimestamp
        ]
        #expect(bytes == expected)
        let parsed = try PTPMessage(parsing: bytes)
        #expect(parsed == message)
        #expect(parsed.header.correction == .nanoseconds(-1))
        #expect(parsed.header.flags.contains(.twoStep))
    }

    @Test(arguments: everyBody)
    func everyTypeRoundTripsWithItsSizeControlFieldAndInterval(body: PTPMessageBody) throws {
        let tlvs = body.messageType == .management ? [PTPTLV(type: PTPTLV.management, value: [0x20, 0x00])] : []
        let message = PTPMessage(body, source: Self.source, sequenceId: 7, domainNumber: 0, intervals: Self.intervals, tlvs: tlvs)
        let bytes = message.serialized()
        let type = body.messageType
        #expect(bytes.count == type.minimumLength + tlvs.reduce(0) { $0 + $1.encodedByteCount })
        #expect(bytes[0] & 0x0F == type.rawValue)
        #expect(bytes[32] == type.controlField)
        let parsed = try PTPMessage(parsing: bytes)
        #expect(parsed == message)
        #expect(parsed.serialized() == bytes)
    }

    @Test func wireSizesFromTheStandard() {
        #expect(PTPMessageType.sync.minimumLength == 44)
        #expect(PTPMessageType.delayReq.minimumLength == 44)
        #expect(PTPMessageType.followUp.minimumLength == 44)
        #expect(PTPMessageType.delayResp.minimumLength == 54)
        #expect(PTPMessageType.pdelayReq.minimumLength == 54)
        #expect(PTPMessageType.pdelayResp.minimumLength == 54)
        #expect(PTPMessageType.pdelayRespFollowUp.minimumLength == 54)
        #expect(PTPMessageType.announce.minimumLength == 64)
        #expect(PTPMessageType.isEventSetIsCorrect)
    }

    @Test func logMessageIntervalPerType() {
        let i = Self.intervals
        #expect(PTPMessageType.sync.logMessageInterval(for: i) == -3)
        #expect(PTPMessageType.followUp.logMessageInterval(for: i) == -3)
        #expect(PTPMessageType.announce.logMessageInterval(for: i) == 1)
        #expect(PTPMessageType.delayResp.logMessageInterval(for: i) == 2)
        for type in [PTPMessageType.delayReq, .pdelayReq, .pdelayResp, .pdelayRespFollowUp, .signaling, .management] {
            #expect(type.logMessageInterval(for: i) == 0x7F)
        }
    }

    @Test func controlFieldPerType() {
        #expect(PTPMessageType.sync.controlField == 0)
        #expect(PTPMessageType.delayReq.controlField == 1)
        #expect(PTPMessageType.followUp.controlField == 2)
        #expect(PTPMessageType.delayResp.controlField == 3)
        #expect(PTPMessageType.management.controlField == 4)
        #expect(PTPMessageType.announce.controlField == 5)
        #expect(PTPMessageType.pdelayReq.controlField == 5)
    }

    @Test func announceFieldsAtTheirOffsets() throws {
        let message = PTPMessage(.announce(Self.announceBody), source: Self.source, sequenceId: 1, domainNumber: 0,
                                 intervals: Self.intervals, flags: [.currentUtcOffsetValid, .ptpTimescale])
        let bytes = message.serialized()
        #expect(bytes.count == 64)
        #expect(bytes[33] == 1)  // logAnnounceInterval
        #expect(bytes[7] == 0x0C)
        #expect(Array(bytes[44..<46]) == [0, 37])  // currentUtcOffset
        #expect(bytes[47] == 128)  // priority1
        #expect(Array(bytes[48..<52]) == [6, 0x21, 0x4E, 0x5D])  // clockQuality
        #expect(bytes[52] == 127)  // priority2
        #expect(Array(bytes[53..<61]) == [1, 2, 3, 4, 5, 6, 7, 8])  // grandmasterIdentity
        #expect(Array(bytes[61..<63]) == [0, 3])  // stepsRemoved
        #expect(bytes[63] == 0x20)  // timeSource
    }

    @Test func sdoIdSplitsIntoMajorAndMinor() throws {
        var message = PTPMessage(.sync(originTimestamp: .zero), source: Self.source, sequenceId: 0, domainNumber: 0,
                                 sdoId: 0x123, intervals: Self.intervals)
        var bytes = message.serialized()
        #expect(bytes[0] == 0x10 && bytes[5] == 0x23)
        #expect(try PTPMessage(parsing: bytes).header.sdoId == 0x123)
        message.header.sdoId = 0x100
        bytes = message.serialized()
        #expect(bytes[0] == 0x10 && bytes[5] == 0x00)
    }

    @Test func tlvsAfterTheBodyAreListedAndKept() throws {
        let tlvs = [PTPTLV(type: PTPTLV.pathTrace, value: Array(repeating: 0xAB, count: 8)),
                    PTPTLV(type: 0x7FFF, value: [])]
        let message = PTPMessage(.announce(Self.announceBody), source: Self.source, sequenceId: 1, domainNumber: 0,
                                 intervals: Self.intervals, tlvs: tlvs)
        let bytes = message.serialized()
        #expect(bytes.count == 64 + 12 + 4)
        let parsed = try PTPMessage(parsing: bytes)
        #expect(parsed.tlvs == tlvs)
        #expect(parsed.serialized() == bytes)
    }

    @Test func managementTLVIsExposed() throws {
        let message = PTPMessage(
            .management(PTPManagementBody(targetPortIdentity: .all, startingBoundaryHops: 0, boundaryHops: 0, action: .get)),
            source: Self.source, sequenceId: 1, domainNumber: 0, intervals: Self.intervals,
            tlvs: [PTPTLV(type: PTPTLV.management, value: [0x20, 0x00, 0xAA, 0xBB])])
        let parsed = try PTPMessage(parsing: message.serialized())
        #expect(parsed.managementTLV?.managementId == 0x2000)
        #expect(parsed.managementTLV?.data == [0xAA, 0xBB])
        if case .management(let body) = parsed.body { #expect(body.action == .get) } else { Issue.record("not management") }
    }

    @Test func ethernetPaddingAfterMessageLengthIsIgnored() throws {
        let message = PTPMessage(.sync(originTimestamp: Self.stamp), source: Self.source, sequenceId: 1, domainNumber: 0,
                                 intervals: Self.intervals)
        let bytes = message.serialized()
        let parsed = try PTPMessage(parsing: bytes + [0, 0])
        #expect(parsed == message)
    }

    // MARK: malformed input, one typed error each

    func expectError(_ bytes: [UInt8], _ expected: PTPMessageError) {
        #expect(throws: expected) { try PTPMessage(parsing: bytes) }
    }

    var validSync: [UInt8] {
        PTPMessage(.sync(originTimestamp: Self.stamp), source: Self.source, sequenceId: 1, domainNumber: 0,
                   intervals: Self.intervals).serialized()
    }

    @Test func truncatedHeader() {
        expectError([], .truncatedHeader(byteCount: 0))
        expectError(Array(validSync.prefix(33)), .truncatedHeader(byteCount: 33))
    }

    @Test func badVersion() {
        var bytes = validSync
        bytes[1] = 0x01
        expectError(bytes, .unsupportedVersion(1))
        bytes[1] = 0x13
        expectError(bytes, .unsupportedVersion(3))
    }

    @Test func unknownMessageType() {
        var bytes = validSync
        for type: UInt8 in [4, 5, 6, 7, 0xE, 0xF] {
            bytes[0] = type
            expectError(bytes, .unknownMessageType(type))
        }
    }

    @Test func messageLengthDisagreeingWithDatagram() {
        let truncated = Array(validSync.prefix(40))
        expectError(truncated, .messageLengthExceedsDatagram(messageLength: 44, datagramLength: 40))
        var short = validSync
        short[3] = 40
        expectError(short, .messageLengthTooShort(type: .sync, messageLength: 40))
        var announce = validSync
        announce[0] = PTPMessageType.announce.rawValue
        expectError(announce, .messageLengthTooShort(type: .announce, messageLength: 44))
    }

    @Test func tlvHeaderCutShort() {
        var bytes = validSync + [0x00, 0x08]
        bytes[3] = 46
        expectError(bytes, .truncatedTLVHeader(offset: 44))
    }

    @Test func tlvOverrunningTheMessage() {
        var bytes = validSync + [0x00, 0x08, 0x00, 0x10, 1, 2, 3, 4]
        bytes[3] = 52
        expectError(bytes, .tlvOverrunsMessage(offset: 44, tlvLength: 16, remaining: 4))
        // The datagram has the bytes, but they lie beyond messageLength: still an overrun.
        expectError(bytes + Array(repeating: 0, count: 16), .tlvOverrunsMessage(offset: 44, tlvLength: 16, remaining: 4))
    }

    @Test func impossibleTimestampsParseButAreFlaggedInvalid() throws {
        var bytes = validSync
        bytes[40...43] = [0xFF, 0xFF, 0xFF, 0xFF]
        let parsed = try PTPMessage(parsing: bytes)
        #expect(parsed.body.timestamps.allSatisfy { !$0.isValid })
        #expect(parsed.serialized() == bytes)
    }

    @Test func clockIdentityFromMAC() {
        #expect(Self.source.clockIdentity.description == "001122.fffe.334455")
        #expect(Self.source.clockIdentity.bytes == [0x00, 0x11, 0x22, 0xFF, 0xFE, 0x33, 0x44, 0x55])
    }
}

extension PTPMessageType {
    static var isEventSetIsCorrect: Bool {
        allCases.filter(\.isEvent) == [.sync, .delayReq, .pdelayReq, .pdelayResp]
    }
}
