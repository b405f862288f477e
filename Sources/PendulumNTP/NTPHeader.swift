import PendulumTime
import PendulumWire

/// The fixed 48-byte NTPv4 header (RFC 5905 §7.3).
public struct NTPHeader: Sendable, Hashable {
    public var leap: LeapIndicator
    public var version: UInt8
    public var mode: NTPMode
    public var stratum: UInt8
    /// log₂ of the poll interval in seconds.
    public var poll: Int8
    /// log₂ of the clock precision in seconds.
    public var precision: Int8
    public var rootDelay: NTPShort
    public var rootDispersion: NTPShort
    public var referenceID: ReferenceID
    public var referenceTimestamp: NTPTimestamp
    public var originTimestamp: NTPTimestamp
    public var receiveTimestamp: NTPTimestamp
    public var transmitTimestamp: NTPTimestamp

    public static let byteCount = 48

    public init(
        leap: LeapIndicator = .none, version: UInt8 = 4, mode: NTPMode, stratum: UInt8 = 0,
        poll: Int8 = 0, precision: Int8 = 0, rootDelay: NTPShort = .zero, rootDispersion: NTPShort = .zero,
        referenceID: ReferenceID = ReferenceID(rawValue: 0), referenceTimestamp: NTPTimestamp = .zero,
        originTimestamp: NTPTimestamp = .zero, receiveTimestamp: NTPTimestamp = .zero,
        transmitTimestamp: NTPTimestamp = .zero
    ) {
        self.leap = leap
        self.version = version
        self.mode = mode
        self.stratum = stratum
        self.poll = poll
        self.precision = precision
        self.rootDelay = rootDelay
        self.rootDispersion = rootDispersion
        self.referenceID = referenceID
        self.referenceTimestamp = referenceTimestamp
        self.originTimestamp = originTimestamp
        self.receiveTimestamp = receiveTimestamp
        self.transmitTimestamp = transmitTimestamp
    }

    /// A Kiss-o'-Death packet: stratum 0, the kiss code in the reference id.
    public var isKissOfDeath: Bool { stratum == 0 && mode == .server }

    public func write(to buffer: inout [UInt8]) {
        buffer.append(leap.rawValue << 6 | (version & 0x7) << 3 | mode.rawValue)
        buffer.append(stratum)
        buffer.append(UInt8(bitPattern: poll))
        buffer.append(UInt8(bitPattern: precision))
        buffer.appendBigEndian(rootDelay.rawValue)
        buffer.appendBigEndian(rootDispersion.rawValue)
        buffer.appendBigEndian(referenceID.rawValue)
        buffer.appendBigEndian(referenceTimestamp.rawValue)
        buffer.appendBigEndian(originTimestamp.rawValue)
        buffer.appendBigEndian(receiveTimestamp.rawValue)
        buffer.appendBigEndian(transmitTimestamp.rawValue)
    }

    /// Reads the header fields without judging version or mode; `NTPPacket` does that.
    init(reading reader: inout BigEndianReader) throws(NTPPacketError) {
        guard reader.remaining >= Self.byteCount else { throw .truncated(length: reader.remaining) }
        let first = reader.readByte()
        leap = LeapIndicator(rawValue: first >> 6) ?? .unsynchronized
        version = (first >> 3) & 0x7
        mode = NTPMode(rawValue: first & 0x7) ?? .reserved
        stratum = reader.readByte()
        poll = Int8(bitPattern: reader.readByte())
        precision = Int8(bitPattern: reader.readByte())
        rootDelay = NTPShort(rawValue: reader.readUInt32())
        rootDispersion = NTPShort(rawValue: reader.readUInt32())
        referenceID = ReferenceID(rawValue: reader.readUInt32())
        referenceTimestamp = NTPTimestamp(rawValue: reader.readUInt64())
        originTimestamp = NTPTimestamp(rawValue: reader.readUInt64())
        receiveTimestamp = NTPTimestamp(rawValue: reader.readUInt64())
        transmitTimestamp = NTPTimestamp(rawValue: reader.readUInt64())
    }
}
