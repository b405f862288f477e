import PendulumTime
import PendulumWire

/// A complete PTP message: header, body and the TLVs after it (§13, §14).
///
/// Parsing is total: any byte sequence either yields a message or a `PTPMessageError`. A
/// parsed message serialises back to exactly the first `messageLength` bytes it came from;
/// bytes beyond messageLength (Ethernet padding) are not part of the message.
public struct PTPMessage: Sendable, Hashable {
    public var header: PTPHeader
    public var body: PTPMessageBody
    public var tlvs: [PTPTLV]

    public init(header: PTPHeader, body: PTPMessageBody, tlvs: [PTPTLV] = []) {
        self.header = header
        self.body = body
        self.tlvs = tlvs
    }

    /// A message with the header fields that follow from its type filled in: controlField,
    /// logMessageInterval (0x7F where Table 43 says so) and, for two-step event messages, the
    /// twoStep flag.
    public init(_ body: PTPMessageBody, source: PortIdentity, sequenceId: UInt16, domainNumber: UInt8,
                sdoId: UInt16 = 0, intervals: PTPLogIntervals, flags: PTPFlags = [],
                correction: PTPTimeInterval = .zero, tlvs: [PTPTLV] = []) {
        let type = body.messageType
        header = PTPHeader(sdoId: sdoId, domainNumber: domainNumber, flags: flags, correction: correction,
                           sourcePortIdentity: source, sequenceId: sequenceId, controlField: type.controlField,
                           logMessageInterval: type.logMessageInterval(for: intervals))
        self.body = body
        self.tlvs = tlvs
    }

    public var messageType: PTPMessageType { body.messageType }

    public var encodedByteCount: Int {
        messageType.minimumLength + tlvs.reduce(0) { $0 + $1.encodedByteCount }
    }

    public init(parsing bytes: [UInt8]) throws(PTPMessageError) {
        guard bytes.count >= PTPHeader.length else { throw .truncatedHeader(byteCount: bytes.count) }
        var reader = BigEndianReader(bytes, end: bytes.count)
        let typeByte = reader.readByte()
        let versionByte = reader.readByte()
        let version = versionByte & 0x0F
        guard version == 2 else { throw .unsupportedVersion(version) }
        guard let type = PTPMessageType(rawValue: typeByte & 0x0F) else { throw .unknownMessageType(typeByte & 0x0F) }
        let messageLength = Int(reader.readUInt16())
        guard messageLength <= bytes.count else {
            throw .messageLengthExceedsDatagram(messageLength: messageLength, datagramLength: bytes.count)
        }
        guard messageLength >= type.minimumLength else { throw .messageLengthTooShort(type: type, messageLength: messageLength) }
        reader = BigEndianReader(bytes, end: messageLength)
        _ = reader.readUInt32()  // type, version and length, read above
        let domainNumber = reader.readByte()
        let minorSdoId = reader.readByte()
        let flags = PTPFlags(rawValue: reader.readUInt16())
        let correction = PTPTimeInterval(scaledNanoseconds: Int64(bitPattern: reader.readUInt64()))
        let messageTypeSpecific = reader.readUInt32()
        let source = reader.readPortIdentity()
        let sequenceId = reader.readUInt16()
        let controlField = reader.readByte()
        let logMessageInterval = Int8(bitPattern: reader.readByte())
        header = PTPHeader(
            sdoId: UInt16(typeByte >> 4) << 8 | UInt16(minorSdoId), version: version, minorVersion: versionByte >> 4,
            domainNumber: domainNumber, flags: flags, correction: correction, messageTypeSpecific: messageTypeSpecific,
            sourcePortIdentity: source, sequenceId: sequenceId, controlField: controlField,
            logMessageInterval: logMessageInterval)
        // messageLength ≥ minimumLength, so the fixed body is all there.
        switch type {
        case .sync: body = .sync(originTimestamp: reader.readTimestamp())
        case .delayReq: body = .delayReq(originTimestamp: reader.readTimestamp())
        case .followUp: body = .followUp(preciseOriginTimestamp: reader.readTimestamp())
        case .pdelayReq:
            body = .pdelayReq(originTimestamp: reader.readTimestamp(), reserved: PTPReservedBytes(reader.readBytes(10)))
        case .pdelayResp:
            body = .pdelayResp(requestReceiptTimestamp: reader.readTimestamp(), requestingPortIdentity: reader.readPortIdentity())
        case .delayResp:
            body = .delayResp(receiveTimestamp: reader.readTimestamp(), requestingPortIdentity: reader.readPortIdentity())
        case .pdelayRespFollowUp:
            body = .pdelayRespFollowUp(responseOriginTimestamp: reader.readTimestamp(),
                                       requestingPortIdentity: reader.readPortIdentity())
        case .announce:
            let origin = reader.readTimestamp()
            let utcOffset = Int16(bitPattern: reader.readUInt16())
            let reserved = reader.readByte()
            let priority1 = reader.readByte()
            let quality = ClockQuality(clockClass: reader.readByte(), clockAccuracy: reader.readByte(),
                                       offsetScaledLogVariance: reader.readUInt16())
            let priority2 = reader.readByte()
            let grandmaster = ClockIdentity(rawValue: reader.readUInt64())
            let stepsRemoved = reader.readUInt16()
            body = .announce(PTPAnnounceBody(
                originTimestamp: origin, currentUtcOffset: utcOffset, reserved: reserved, grandmasterPriority1: priority1,
                grandmasterClockQuality: quality, grandmasterPriority2: priority2, grandmasterIdentity: grandmaster,
                stepsRemoved: stepsRemoved, timeSource: reader.readByte()))
        case .signaling: body = .signaling(targetPortIdentity: reader.readPortIdentity())
        case .management:
            body = .management(PTPManagementBody(
                targetPortIdentity: reader.readPortIdentity(), startingBoundaryHops: reader.readByte(),
                boundaryHops: reader.readByte(), actionByte: reader.readByte(), reserved: reader.readByte()))
        }
        var tlvs: [PTPTLV] = []
        while reader.remaining > 0 {
            let offset = reader.position
            guard reader.remaining >= 4 else { throw .truncatedTLVHeader(offset: offset) }
            let tlvType = reader.readUInt16()
            let length = Int(reader.readUInt16())
            guard length <= reader.remaining else {
                throw .tlvOverrunsMessage(offset: offset, tlvLength: length, remaining: reader.remaining)
            }
            tlvs.append(PTPTLV(type: tlvType, value: reader.readBytes(length)))
        }
        self.tlvs = tlvs
    }

    /// The wire form. messageLength and messageType come from the body and TLVs; values that do
    /// not fit their fields (a TLV value over 65535 bytes) are truncated, which no message we
    /// build ever needs.
    public func serialized() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(encodedByteCount)
        bytes.append(header.majorSdoId << 4 | messageType.rawValue)
        bytes.append((header.minorVersion & 0x0F) << 4 | (header.version & 0x0F))
        bytes.appendBigEndian(UInt16(truncatingIfNeeded: encodedByteCount))
        bytes.append(header.domainNumber)
        bytes.append(header.minorSdoId)
        bytes.appendBigEndian(header.flags.rawValue)
        bytes.appendBigEndian(header.correction.scaledNanoseconds)
        bytes.appendBigEndian(header.messageTypeSpecific)
        bytes.appendPortIdentity(header.sourcePortIdentity)
        bytes.appendBigEndian(header.sequenceId)
        bytes.append(header.controlField)
        bytes.append(UInt8(bitPattern: header.logMessageInterval))
        switch body {
        case .sync(let t), .delayReq(let t), .followUp(let t):
            bytes.appendTimestamp(t)
        case .pdelayReq(let t, let reserved):
            bytes.appendTimestamp(t)
            bytes.append(contentsOf: (reserved.bytes + Array(repeating: 0, count: 10)).prefix(10))
        case .pdelayResp(let t, let port), .delayResp(let t, let port), .pdelayRespFollowUp(let t, let port):
            bytes.appendTimestamp(t)
            bytes.appendPortIdentity(port)
        case .announce(let a):
            bytes.appendTimestamp(a.originTimestamp)
            bytes.appendBigEndian(a.currentUtcOffset)
            bytes.append(a.reserved)
            bytes.append(a.grandmasterPriority1)
            bytes.append(a.grandmasterClockQuality.clockClass)
            bytes.append(a.grandmasterClockQuality.clockAccuracy)
            bytes.appendBigEndian(a.grandmasterClockQuality.offsetScaledLogVariance)
            bytes.append(a.grandmasterPriority2)
            bytes.appendBigEndian(a.grandmasterIdentity.rawValue)
            bytes.appendBigEndian(a.stepsRemoved)
            bytes.append(a.timeSource)
        case .signaling(let target):
            bytes.appendPortIdentity(target)
        case .management(let m):
            bytes.appendPortIdentity(m.targetPortIdentity)
            bytes.append(m.startingBoundaryHops)
            bytes.append(m.boundaryHops)
            bytes.append(m.actionByte)
            bytes.append(m.reserved)
        }
        for tlv in tlvs {
            bytes.appendBigEndian(tlv.type)
            bytes.appendBigEndian(UInt16(truncatingIfNeeded: tlv.value.count))
            bytes.append(contentsOf: tlv.value.prefix(Int(UInt16.max)))
        }
        return bytes
    }

    /// The MANAGEMENT TLV of a Management message: managementId and its data, if present.
    public var managementTLV: (managementId: UInt16, data: [UInt8])? {
        guard case .management = body, let tlv = tlvs.first(where: { $0.type == PTPTLV.management }),
              tlv.value.count >= 2 else { return nil }
        return (UInt16(tlv.value[0]) << 8 | UInt16(tlv.value[1]), Array(tlv.value.dropFirst(2)))
    }
}
