/// An IPv4 or IPv6 network in CIDR notation ("192.0.2.0/24", "2001:db8::/32", or a bare
/// address meaning a single host).
public struct AddressPrefix: Sendable, Hashable, CustomStringConvertible {
    /// 4 or 16 bytes, host bits cleared.
    public let network: [UInt8]
    public let length: Int
    /// The same network as words, for `contains(_: ClientAddress)` without allocation.
    private let networkWords: ClientAddress
    private let maskHigh: UInt64
    private let maskLow: UInt64

    public enum ParseError: Error, Sendable, Hashable {
        case invalidAddress(String)
        case invalidLength(String)
    }

    public init(parsing text: String) throws(ParseError) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let addressText = parts.first, let bytes = Self.parseAddress(String(addressText)) else {
            throw .invalidAddress(text)
        }
        let maximum = bytes.count * 8
        var length = maximum
        if parts.count == 2 {
            guard let parsed = Int(parts[1]), (0...maximum).contains(parsed) else { throw .invalidLength(text) }
            length = parsed
        }
        self.length = length
        network = Self.masked(bytes, length: length)
        let isIPv4 = bytes.count == 4
        // Word masks: IPv4 lives in the low 32 bits of `low`, IPv6 spans both words.
        let bitsInHigh = isIPv4 ? 0 : min(64, length)
        let bitsInLow = isIPv4 ? length : max(0, length - 64)
        let lowWidth = isIPv4 ? 32 : 64
        maskHigh = bitsInHigh == 0 ? 0 : ~UInt64(0) << UInt64(64 - bitsInHigh)
        maskLow = bitsInLow == 0 ? 0 : (~UInt64(0) >> UInt64(64 - lowWidth)) & ~((UInt64(1) << UInt64(lowWidth - bitsInLow)) &- 1)
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (index, byte) in network.enumerated() {
            if !isIPv4 && index < 8 { high = high << 8 | UInt64(byte) } else { low = low << 8 | UInt64(byte) }
        }
        networkWords = ClientAddress(high: high, low: low, isIPv4: isIPv4)
    }

    /// Whether `address` lies in this network (IPv4-mapped IPv6 already counts as IPv4 there).
    public func contains(_ address: ClientAddress) -> Bool {
        address.isIPv4 == networkWords.isIPv4 && address.high & maskHigh == networkWords.high && address.low & maskLow == networkWords.low
    }

    /// Whether `address` (4 or 16 bytes; IPv4-mapped IPv6 counts as IPv4) lies in this network.
    public func contains(_ address: [UInt8]) -> Bool {
        let normalized = Self.unmapped(address)
        guard normalized.count == network.count else { return false }
        return Self.masked(normalized, length: length) == network
    }

    public var description: String {
        let text: String
        if network.count == 4 {
            text = network.map(String.init).joined(separator: ".")
        } else {
            text = stride(from: 0, to: 16, by: 2).map { String(UInt16(network[$0]) << 8 | UInt16(network[$0 + 1]), radix: 16) }.joined(separator: ":")
        }
        return "\(text)/\(length)"
    }

    /// "::ffff:a.b.c.d" as the IPv4 address it stands for; other addresses unchanged.
    static func unmapped(_ address: [UInt8]) -> [UInt8] {
        guard address.count == 16, address.prefix(10).allSatisfy({ $0 == 0 }), address[10] == 0xFF, address[11] == 0xFF else {
            return address
        }
        return Array(address.suffix(4))
    }

    static func masked(_ bytes: [UInt8], length: Int) -> [UInt8] {
        var result = bytes
        for index in result.indices {
            let bitsKept = min(8, max(0, length - index * 8))
            let mask: UInt8 = bitsKept == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - bitsKept))
            result[index] &= mask
        }
        return result
    }

    static func parseAddress(_ text: String) -> [UInt8]? {
        if text.contains(":") { return parseIPv6(text) }
        return parseIPv4(text)
    }

    static func parseIPv4(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII), let value = UInt8(part) else { return nil }
            bytes.append(value)
        }
        return bytes
    }

    static func parseIPv6(_ text: String) -> [UInt8]? {
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String) -> [UInt8]? {
            if part.isEmpty { return [] }
            var bytes: [UInt8] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, piece) in pieces.enumerated() {
                if index == pieces.count - 1, piece.contains(".") {
                    guard let v4 = parseIPv4(String(piece)) else { return nil }
                    bytes += v4
                    continue
                }
                guard (1...4).contains(piece.count), let value = UInt16(piece, radix: 16) else { return nil }
                bytes += [UInt8(value >> 8), UInt8(value & 0xFF)]
            }
            return bytes
        }
        guard let head = groups(halves[0]) else { return nil }
        if halves.count == 1 { return head.count == 16 ? head : nil }
        guard let tail = groups(halves[1]), head.count + tail.count <= 14 else { return nil }
        return head + [UInt8](repeating: 0, count: 16 - head.count - tail.count) + tail
    }
}
