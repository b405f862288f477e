/// Why bytes were not accepted as an NTP packet. Every malformed input maps to one of these;
/// none of them is a trap.
public enum NTPPacketError: Error, Sendable, Hashable {
    /// Fewer than 48 bytes.
    case truncated(length: Int)
    /// Version 0, or newer than 4.
    case unsupportedVersion(UInt8)
    /// Modes 0 (reserved), 6 (control) and 7 (private) do not use this packet format.
    case unsupportedMode(NTPMode)
    /// An extension field whose length is below 16 bytes.
    case extensionFieldTooShort(offset: Int, length: Int)
    /// An extension field whose length is not a multiple of four.
    case extensionFieldMisaligned(offset: Int, length: Int)
    /// An extension field whose length runs past the end of the packet.
    case extensionFieldOverrunsPacket(offset: Int, length: Int, available: Int)
    /// Bytes after the header (or fields) that are neither an extension field nor a MAC.
    case trailingBytes(offset: Int, count: Int)
    /// Extension fields are an NTPv4 feature; earlier versions may only carry a MAC.
    case extensionFieldsBeforeVersion4(version: UInt8)
}

extension NTPPacketError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .truncated(let length):
            "packet truncated: \(length) bytes, an NTP header needs 48"
        case .unsupportedVersion(let version):
            "unsupported NTP version \(version)"
        case .unsupportedMode(let mode):
            "unsupported NTP mode \(mode.rawValue) (\(mode))"
        case .extensionFieldTooShort(let offset, let length):
            "extension field at byte \(offset) has length \(length), below the minimum of 16"
        case .extensionFieldMisaligned(let offset, let length):
            "extension field at byte \(offset) has length \(length), not a multiple of 4"
        case .extensionFieldOverrunsPacket(let offset, let length, let available):
            "extension field at byte \(offset) claims \(length) bytes but only \(available) remain"
        case .trailingBytes(let offset, let count):
            "\(count) unparseable bytes at byte \(offset)"
        case .extensionFieldsBeforeVersion4(let version):
            "NTP version \(version) packet carries data that is not a MAC"
        }
    }
}
