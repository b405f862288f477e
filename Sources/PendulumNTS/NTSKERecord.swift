import PendulumWire

/// One NTS-KE record (RFC 8915 §4): a critical bit, a 15-bit type, a u16 body length and the
/// body. Records are kept raw here; `NTSKEClientExchange` and `NTSKEServerNegotiation` give them
/// meaning.
public struct NTSKERecord: Sendable, Hashable {
    public var isCritical: Bool
    /// The 15-bit record type (the critical bit is not part of it).
    public var type: UInt16
    public var body: [UInt8]

    public static let headerByteCount = 4
    public static let maximumType: UInt16 = 0x7FFF

    public init(isCritical: Bool, type: UInt16, body: [UInt8] = []) {
        self.isCritical = isCritical
        self.type = type & Self.maximumType
        self.body = body
    }

    public var encodedByteCount: Int { Self.headerByteCount + body.count }

    /// Appends the wire form. Bodies longer than 65535 bytes cannot be expressed; the builders in
    /// this module never make them, and this refuses (returns false) rather than truncate.
    @discardableResult
    public func write(to buffer: inout [UInt8]) -> Bool {
        guard let length = UInt16(exactly: body.count) else { return false }
        buffer.appendBigEndian((isCritical ? 0x8000 : 0) | type)
        buffer.appendBigEndian(length)
        buffer.append(contentsOf: body)
        return true
    }

    // MARK: Builders for the record types of RFC 8915 §4.1

    public static let endOfMessage = NTSKERecord(isCritical: true, type: NTSKERecordType.endOfMessage)

    public static func nextProtocols(_ protocols: [UInt16]) -> NTSKERecord {
        NTSKERecord(isCritical: true, type: NTSKERecordType.nextProtocolNegotiation, body: u16List(protocols))
    }

    public static func error(_ code: NTSKEErrorCode) -> NTSKERecord {
        var body: [UInt8] = []
        body.appendBigEndian(code.rawValue)
        return NTSKERecord(isCritical: true, type: NTSKERecordType.error, body: body)
    }

    public static func warning(_ code: UInt16) -> NTSKERecord {
        var body: [UInt8] = []
        body.appendBigEndian(code)
        return NTSKERecord(isCritical: true, type: NTSKERecordType.warning, body: body)
    }

    /// RFC 8915 §4.1.5 lets the sender choose the critical bit; chrony and ntpd-rs clients send
    /// it set, and so do we.
    public static func aeadAlgorithms(_ algorithms: [UInt16]) -> NTSKERecord {
        NTSKERecord(isCritical: true, type: NTSKERecordType.aeadAlgorithmNegotiation, body: u16List(algorithms))
    }

    public static func newCookie(_ cookie: [UInt8]) -> NTSKERecord {
        NTSKERecord(isCritical: false, type: NTSKERecordType.newCookie, body: cookie)
    }

    public static func server(_ name: String) -> NTSKERecord {
        NTSKERecord(isCritical: true, type: NTSKERecordType.serverNegotiation, body: Array(name.utf8))
    }

    public static func port(_ port: UInt16) -> NTSKERecord {
        var body: [UInt8] = []
        body.appendBigEndian(port)
        return NTSKERecord(isCritical: true, type: NTSKERecordType.portNegotiation, body: body)
    }

    private static func u16List(_ values: [UInt16]) -> [UInt8] {
        var body: [UInt8] = []
        for value in values { body.appendBigEndian(value) }
        return body
    }

    /// Reads a body that is a list of u16 values; nil when its length is odd.
    func u16ListBody() -> [UInt16]? {
        guard body.count % 2 == 0 else { return nil }
        return stride(from: 0, to: body.count, by: 2).map { body.bigEndianUInt16(at: $0) }
    }

    /// Reads a body that is exactly one u16.
    func u16Body() -> UInt16? {
        body.count == 2 ? body.bigEndianUInt16(at: 0) : nil
    }
}

/// Record types from the IANA "Network Time Security Key Establishment Record Types" registry.
public enum NTSKERecordType {
    public static let endOfMessage: UInt16 = 0
    public static let nextProtocolNegotiation: UInt16 = 1
    public static let error: UInt16 = 2
    public static let warning: UInt16 = 3
    public static let aeadAlgorithmNegotiation: UInt16 = 4
    public static let newCookie: UInt16 = 5
    public static let serverNegotiation: UInt16 = 6
    public static let portNegotiation: UInt16 = 7
}

/// Next Protocol ids (IANA "Network Time Security Next Protocols").
public enum NTSNextProtocol {
    public static let ntpv4: UInt16 = 0
}

/// Error record codes (RFC 8915 §4.1.3).
public enum NTSKEErrorCode: Sendable, Hashable, RawRepresentable {
    case unrecognizedCriticalRecord
    case badRequest
    case internalServerError
    case other(UInt16)

    public init(rawValue: UInt16) {
        switch rawValue {
        case 0: self = .unrecognizedCriticalRecord
        case 1: self = .badRequest
        case 2: self = .internalServerError
        default: self = .other(rawValue)
        }
    }

    public var rawValue: UInt16 {
        switch self {
        case .unrecognizedCriticalRecord: 0
        case .badRequest: 1
        case .internalServerError: 2
        case .other(let code): code
        }
    }
}

extension Array where Element == NTSKERecord {
    /// The wire form of a whole message. Nil only if a record body exceeds 65535 bytes.
    public func serializedNTSKEMessage() -> [UInt8]? {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(reduce(0) { $0 + $1.encodedByteCount })
        for record in self {
            guard record.write(to: &buffer) else { return nil }
        }
        return buffer
    }
}
