import Crypto
import PendulumWire

/// The TLS 1.3 exporter (RFC 8446 §7.5) computed from the exporter master secret, for TLS
/// stacks that report the secret (the key-log line `EXPORTER_SECRET`) but offer no exporter API,
/// as swift-nio-ssl.
public enum TLSExporter {
    /// The handshake hash of the negotiated cipher suite: SHA-256 for TLS_AES_128_GCM_SHA256 and
    /// TLS_CHACHA20_POLY1305_SHA256, SHA-384 for TLS_AES_256_GCM_SHA384.
    public enum Hash: Sendable, Hashable {
        case sha256, sha384

        var byteCount: Int { self == .sha256 ? 32 : 48 }

        func digest(_ data: [UInt8]) -> [UInt8] {
            switch self {
            case .sha256: Array(SHA256.hash(data: data))
            case .sha384: Array(SHA384.hash(data: data))
            }
        }
    }

    /// TLS-Exporter(label, context, length) =
    ///   HKDF-Expand-Label(Derive-Secret(exporter_master_secret, label, ""), "exporter", Hash(context), length)
    public static func export(exporterSecret: [UInt8], hash: Hash, label: String, context: [UInt8], length: Int) -> [UInt8] {
        let derived = hkdfExpandLabel(secret: exporterSecret, label: label, context: hash.digest([]), length: hash.byteCount, hash: hash)
        return hkdfExpandLabel(secret: derived, label: "exporter", context: hash.digest(context), length: length, hash: hash)
    }

    /// HKDF-Expand-Label (RFC 8446 §7.1): HKDF-Expand with the info
    /// `u16 length ‖ u8 len ‖ "tls13 " + label ‖ u8 len ‖ context`.
    /// Labels over 249 bytes and contexts over 255 cannot be encoded and yield an empty result;
    /// every caller in this module uses fixed short labels and hash-sized contexts.
    public static func hkdfExpandLabel(secret: [UInt8], label: String, context: [UInt8], length: Int, hash: Hash) -> [UInt8] {
        let fullLabel = Array("tls13 \(label)".utf8)
        guard let encodedLength = UInt16(exactly: length), let labelLength = UInt8(exactly: fullLabel.count),
              let contextLength = UInt8(exactly: context.count), length <= 255 * hash.byteCount
        else { return [] }
        var info: [UInt8] = []
        info.appendBigEndian(encodedLength)
        info.append(labelLength)
        info.append(contentsOf: fullLabel)
        info.append(contextLength)
        info.append(contentsOf: context)
        let key = SymmetricKey(data: secret)
        switch hash {
        case .sha256:
            return HKDF<SHA256>.expand(pseudoRandomKey: key, info: info, outputByteCount: length).withUnsafeBytes { Array($0) }
        case .sha384:
            return HKDF<SHA384>.expand(pseudoRandomKey: key, info: info, outputByteCount: length).withUnsafeBytes { Array($0) }
        }
    }
}

/// The pair of NTS keys for one association (RFC 8915 §5.1).
public struct NTSKeys: Sendable, Hashable {
    /// Client to server: seals requests.
    public var c2s: [UInt8]
    /// Server to client: seals responses.
    public var s2c: [UInt8]

    public init(c2s: [UInt8], s2c: [UInt8]) {
        self.c2s = c2s
        self.s2c = s2c
    }

    public static let exporterLabel = "EXPORTER-network-time-security"

    /// The exporter context: protocol id ‖ AEAD id ‖ 0x00 (C2S) or 0x01 (S2C).
    public static func exporterContext(nextProtocol: UInt16, aead: AEADAlgorithm, serverToClient: Bool) -> [UInt8] {
        var context: [UInt8] = []
        context.appendBigEndian(nextProtocol)
        context.appendBigEndian(aead.rawValue)
        context.append(serverToClient ? 1 : 0)
        return context
    }

    /// Both keys from the connection's exporter master secret.
    public static func derive(exporterSecret: [UInt8], hash: TLSExporter.Hash, nextProtocol: UInt16 = NTSNextProtocol.ntpv4, aead: AEADAlgorithm) -> NTSKeys {
        func key(_ serverToClient: Bool) -> [UInt8] {
            TLSExporter.export(
                exporterSecret: exporterSecret, hash: hash, label: exporterLabel,
                context: exporterContext(nextProtocol: nextProtocol, aead: aead, serverToClient: serverToClient),
                length: aead.keyByteCount
            )
        }
        return NTSKeys(c2s: key(false), s2c: key(true))
    }
}
