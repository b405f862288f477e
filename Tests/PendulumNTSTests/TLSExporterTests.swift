import Testing
@testable import PendulumNTS

@Suite struct TLSExporterTests {
    /// RFC 8448 §3 (simple 1-RTT handshake): "derive secret for handshake tls13 derived" from the
    /// early secret, with the hash of the empty transcript as context.
    @Test func hkdfExpandLabelMatchesRFC8448() {
        let earlySecret = hex("33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a")
        let emptyHash = hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        let derived = TLSExporter.hkdfExpandLabel(secret: earlySecret, label: "derived", context: emptyHash, length: 32, hash: .sha256)
        #expect(derived == hex("6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba"))
    }

    /// Captured from OpenSSL 3.0.19 on loopback (s_client -keylogfile -keymatexport
    /// EXPORTER-network-time-security): the EXPORTER_SECRET from the key log and the keying
    /// material OpenSSL exported. OpenSSL exports without a context, which TLS 1.3 defines to be
    /// the empty context.
    @Test func exporterMatchesOpenSSLWithSHA256() {
        let secret = hex("5d5d71257ad9d072218e602b35d0d5623146d8f21661e85e46c03d215accbf8b")
        let exported = TLSExporter.export(exporterSecret: secret, hash: .sha256, label: NTSKeys.exporterLabel, context: [], length: 32)
        #expect(exported == hex("B6BAADFCCF8DE831A2C727E86F4893E415E8E620994532CDFAD8BFAD3E911D69"))
    }

    @Test func exporterMatchesOpenSSLWithSHA384() {
        let secret = hex("8af5ddeec981e221b27888d76fa93fc13fe649b47b9437d08adcbe7f28ff872554255293ccd683263e829ba6cca140f7")
        let exported = TLSExporter.export(exporterSecret: secret, hash: .sha384, label: NTSKeys.exporterLabel, context: [], length: 64)
        #expect(exported == hex("C40A2E126A72D2A0CA745B3E279B06C33DABE8C5A4D37850B6DECC17FDF828D37F3D66729D8501FE56A4EDE62F648E211D430867359182C9271B9F8368C90549"))
    }

    @Test func ntsContextsAndKeyLengths() {
        #expect(NTSKeys.exporterContext(nextProtocol: 0, aead: .aesSIVCMAC256, serverToClient: false) == [0, 0, 0, 0x0F, 0])
        #expect(NTSKeys.exporterContext(nextProtocol: 0, aead: .aesSIVCMAC256, serverToClient: true) == [0, 0, 0, 0x0F, 1])
        let secret = [UInt8](repeating: 7, count: 32)
        let keys = NTSKeys.derive(exporterSecret: secret, hash: .sha256, aead: .aesSIVCMAC256)
        #expect(keys.c2s.count == 32 && keys.s2c.count == 32 && keys.c2s != keys.s2c)
        #expect(keys.c2s == TLSExporter.export(exporterSecret: secret, hash: .sha256, label: "EXPORTER-network-time-security", context: [0, 0, 0, 15, 0], length: 32))
        let keys512 = NTSKeys.derive(exporterSecret: secret, hash: .sha256, aead: .aesSIVCMAC512)
        #expect(keys512.c2s.count == 64 && keys512.s2c.count == 64)
        #expect(Array(keys512.c2s.prefix(32)) != keys.c2s, "the AEAD id is part of the context")
    }
}

@Suite struct TLSKeyLogTests {
    @Test func exporterSecretLinesAreRecognised() {
        let line = Array("EXPORTER_SECRET 0011 5D5d71257ad9d072218e602b35d0d5623146d8f21661e85e46c03d215accbf8b\n".utf8)
        let secret = TLSKeyLog.exporterSecret(fromLine: line)
        #expect(secret == hex("5d5d71257ad9d072218e602b35d0d5623146d8f21661e85e46c03d215accbf8b"))
        #expect(TLSKeyLog.hash(forSecretLength: 32) == .sha256)
        #expect(TLSKeyLog.hash(forSecretLength: 48) == .sha384)
        #expect(TLSKeyLog.hash(forSecretLength: 40) == nil)
        #expect(TLSKeyLog.exporterSecret(fromLine: Array("CLIENT_TRAFFIC_SECRET_0 00 11\n".utf8)) == nil)
        #expect(TLSKeyLog.exporterSecret(fromLine: Array("EXPORTER_SECRET 00 1g\n".utf8)) == nil)
        #expect(TLSKeyLog.exporterSecret(fromLine: Array("EXPORTER_SECRET 00 123\n".utf8)) == nil)
        #expect(TLSKeyLog.exporterSecret(fromLine: []) == nil)
    }
}
