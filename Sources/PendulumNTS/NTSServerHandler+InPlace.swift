internal import CPendulumShim
import PendulumNTP
import PendulumTime
import PendulumWire

/// What `NTSServerHandler.answerInPlace` did.
public enum NTSInPlaceOutcome: Sendable, Hashable {
    /// An authenticated response of this many bytes is in the reply buffer.
    case responded(length: Int)
    /// An NTS NAK of this many bytes is in the reply buffer.
    case nak(length: Int)
    /// Send nothing: the request fails the same checks `authenticate` makes.
    case dropped(NTSServerRejection)
    /// Not handled here (AEAD 17, no AES instructions, a reply buffer too small to work in):
    /// decide with `authenticate` and `response` instead. Nothing was consumed.
    case declined
}

extension NTSServerHandler {
    /// `authenticate` and `response` for the common request (AEAD_AES_SIV_CMAC_256 on a
    /// processor with AES instructions), working in the request and reply buffers: no array,
    /// no class instance, no copy of the request. The answer is byte for byte the one the
    /// general path gives for the same random bytes (a test and a fuzz target hold it to that).
    ///
    /// The per-request keys and the cookie's plaintext live on this thread's stack and are
    /// wiped before it returns.
    /// - Parameters:
    ///   - layout: `NTSRequestLayout(request:)` of `request`.
    ///   - responseHeader: the NTP answer, read as late as possible (its transmit time is T3);
    ///     called only when a response is sent.
    ///   - nakTransmitTime: the transmit time of a NAK; called only when one is sent.
    public static func answerInPlace(
        request: UnsafeRawBufferPointer, layout: NTSRequestLayout, keyset: CookieKeyset, random: inout some NTSRandomSource,
        reply: UnsafeMutableRawBufferPointer, responseHeader: () -> NTPHeader, nakTransmitTime: () -> NTPTimestamp
    ) -> NTSInPlaceOutcome {
        guard let cookieKey = keyset.current.hardwareKeys else { return .declined }
        // The decrypted fields of the authenticator are read in the reply buffer, before the
        // reply is written over them.
        guard reply.count >= request.count else { return .declined }
        // The checks in `authenticate`'s order: the packet's form, then the fields NTS needs.
        var authenticator: NTSAuthenticatorLayout?
        if let value = layout.authenticatorValue {
            do { authenticator = try NTSAuthenticatorLayout(request: request, value: value) } catch { return .dropped(.malformed(error)) }
        }
        guard let uniqueIdentifierField = layout.uniqueIdentifierField else { return .dropped(.missingUniqueIdentifier) }
        guard let cookie = layout.cookie else { return .dropped(.missingCookie) }
        guard layout.cookieCount == 1 else { return .dropped(.multipleCookies) }
        guard let authenticator, let authenticatorOffset = layout.authenticatorOffset else { return .dropped(.missingAuthenticator) }

        func nak() -> NTSInPlaceOutcome {
            let length = NTPHeader.byteCount + uniqueIdentifierField.count
            guard length <= request.count, length <= reply.count else { return .dropped(.responseWouldExceedRequest) }
            let transmit = nakTransmitTime()
            NTPHeader(
                leap: .unsynchronized, version: (request[0] >> 3) & 0x7, mode: .server, stratum: 0, poll: Int8(bitPattern: request[2]),
                precision: 0, referenceID: .kissNTSNak, originTimestamp: NTPTimestamp(rawValue: request.bigEndianUInt64(at: 40)),
                receiveTimestamp: transmit, transmitTimestamp: transmit
            ).write(into: reply)
            copy(request, uniqueIdentifierField, to: reply, at: NTPHeader.byteCount)
            return .nak(length: length)
        }

        // The cookie: key id ‖ nonce ‖ tag ‖ sealed (AEAD id ‖ 0 ‖ C2S ‖ S2C). Any other length
        // cannot open as an AEAD 15 cookie; 168 bytes may be an AEAD 17 one.
        let cookieIDBytes = Cookie.keyIDByteCount
        let cookieHeaderBytes = cookieIDBytes + Cookie.nonceByteCount
        let plaintextBytes = Cookie.algorithmFieldByteCount + AEADAlgorithm.aesSIVCMAC256.keyByteCount * 2
        if cookie.count == Cookie.byteCount(for: .aesSIVCMAC512) { return .declined }
        guard cookie.count == Cookie.byteCount(for: .aesSIVCMAC256) else { return nak() }
        let keyID = request.bigEndianUInt32(at: cookie.lowerBound)
        guard let masterKey = keyset.hardwareKeys(id: keyID) else { return nak() }

        return withUnsafeTemporaryAllocation(byteCount: plaintextBytes, alignment: 16) { keys -> NTSInPlaceOutcome in
            defer { wipe(keys) }
            let opened = HardwareAES128Keys.open(
                masterKey.key,
                associatedData: UnsafeRawBufferPointer(rebasing: request[cookie.lowerBound..<cookie.lowerBound + cookieIDBytes]),
                nonce: UnsafeRawBufferPointer(rebasing: request[cookie.lowerBound + cookieIDBytes..<cookie.lowerBound + cookieHeaderBytes]),
                sealed: UnsafeRawBufferPointer(rebasing: request[cookie.lowerBound + cookieHeaderBytes..<cookie.upperBound]),
                into: keys
            )
            guard opened else { return nak() }
            let algorithm = UInt16(keys[0]) << 8 | UInt16(keys[1])
            guard keys[2] == 0, keys[3] == 0 else { return nak() }
            guard algorithm == AEADAlgorithm.aesSIVCMAC256.rawValue else {
                return AEADAlgorithm(rawValue: algorithm) == nil ? nak() : .declined
            }
            let keyBytes = AEADAlgorithm.aesSIVCMAC256.keyByteCount
            let clientToServer = UnsafeRawBufferPointer(rebasing: keys[Cookie.algorithmFieldByteCount..<Cookie.algorithmFieldByteCount + keyBytes])
            let serverToClient = UnsafeRawBufferPointer(rebasing: keys[(Cookie.algorithmFieldByteCount + keyBytes)...])

            // The authenticator, opened into the reply buffer.
            let encryptedBytes = authenticator.sealed.count - AESSIV.tagByteCount
            let encrypted = UnsafeMutableRawBufferPointer(rebasing: reply[..<encryptedBytes])
            let authentic = withSIVKey(clientToServer) { key in
                HardwareAES128Keys.open(
                    key, associatedData: UnsafeRawBufferPointer(rebasing: request[..<authenticatorOffset]),
                    nonce: UnsafeRawBufferPointer(rebasing: request[authenticator.nonce]),
                    sealed: UnsafeRawBufferPointer(rebasing: request[authenticator.sealed]), into: encrypted
                )
            }
            guard authentic else { return .dropped(.authenticationFailed) }
            let encryptedPlaceholders: Int
            do throws(NTSPacketError) {
                defer { wipe(encrypted) }
                encryptedPlaceholders = try placeholderCount(inFields: UnsafeRawBufferPointer(encrypted))
            } catch {
                return .dropped(.malformedEncryptedFields(error))
            }
            let cookiesWanted = 1 + min(layout.placeholderCount + encryptedPlaceholders, 7)

            // The response: header ‖ Unique Identifier ‖ authenticator (nonce, then the fresh
            // cookies sealed with S2C), no larger than the request.
            let cookieFieldBytes = ExtensionField.headerByteCount + Cookie.byteCount(for: .aesSIVCMAC256)
            let authenticatorStart = NTPHeader.byteCount + uniqueIdentifierField.count
            let sealedStart = authenticatorStart + ExtensionField.headerByteCount + 4 + nonceByteCount
            let cookiesStart = sealedStart + AESSIV.tagByteCount
            let room = request.count - cookiesStart
            let cookieCount = max(0, min(cookiesWanted, room / cookieFieldBytes))
            let length = cookiesStart + cookieCount * cookieFieldBytes
            guard length <= request.count, length <= reply.count else { return .dropped(.responseWouldExceedRequest) }

            responseHeader().write(into: reply)
            copy(request, uniqueIdentifierField, to: reply, at: NTPHeader.byteCount)
            reply.storeBigEndian(ExtensionFieldType.ntsAuthenticator, at: authenticatorStart)
            reply.storeBigEndian(UInt16(truncatingIfNeeded: length - authenticatorStart), at: authenticatorStart + 2)
            reply.storeBigEndian(UInt16(nonceByteCount), at: authenticatorStart + 4)
            reply.storeBigEndian(UInt16(truncatingIfNeeded: AESSIV.tagByteCount + cookieCount * cookieFieldBytes), at: authenticatorStart + 6)
            for index in 0..<cookieCount {
                let field = cookiesStart + index * cookieFieldBytes
                reply.storeBigEndian(ExtensionFieldType.ntsCookie, at: field)
                reply.storeBigEndian(UInt16(cookieFieldBytes), at: field + 2)
                let cookieStart = field + ExtensionField.headerByteCount
                mintCookie(into: UnsafeMutableRawBufferPointer(rebasing: reply[cookieStart..<cookieStart + Cookie.byteCount(for: .aesSIVCMAC256)]),
                           keyID: keyset.current.id, masterKey: cookieKey, keys: UnsafeRawBufferPointer(keys), random: &random)
            }
            let nonceStart = authenticatorStart + ExtensionField.headerByteCount + 4
            let nonce = UnsafeMutableRawBufferPointer(rebasing: reply[nonceStart..<nonceStart + nonceByteCount])
            random.fill(nonce)
            withSIVKey(serverToClient) { key in
                HardwareAES128Keys.seal(
                    key, associatedData: UnsafeRawBufferPointer(rebasing: reply[..<authenticatorStart]), nonce: UnsafeRawBufferPointer(nonce),
                    sealed: UnsafeMutableRawBufferPointer(rebasing: reply[sealedStart..<length])
                )
            }
            return .responded(length: length)
        }
    }

    /// key id ‖ nonce ‖ tag ‖ sealed (AEAD id 15 ‖ 0 ‖ C2S ‖ S2C), the layout of `Cookie.mint`.
    /// `keys` is the opened cookie's plaintext, which is exactly what the new one seals.
    private static func mintCookie(
        into cookie: UnsafeMutableRawBufferPointer, keyID: UInt32, masterKey: HardwareAES128Keys, keys: UnsafeRawBufferPointer,
        random: inout some NTSRandomSource
    ) {
        let headerBytes = Cookie.keyIDByteCount + Cookie.nonceByteCount
        cookie.storeBytes(of: keyID.bigEndian, toByteOffset: 0, as: UInt32.self)
        random.fill(UnsafeMutableRawBufferPointer(rebasing: cookie[Cookie.keyIDByteCount..<headerBytes]))
        let sealed = UnsafeMutableRawBufferPointer(rebasing: cookie[headerBytes...])
        UnsafeMutableRawBufferPointer(rebasing: sealed[AESSIV.tagByteCount...]).copyMemory(from: keys)
        HardwareAES128Keys.seal(
            masterKey.key, associatedData: UnsafeRawBufferPointer(rebasing: cookie[..<Cookie.keyIDByteCount]),
            nonce: UnsafeRawBufferPointer(rebasing: cookie[Cookie.keyIDByteCount..<headerBytes]), sealed: sealed
        )
    }

    /// An AES-SIV-CMAC-256 key on this thread's stack for one use, wiped afterwards.
    private static func withSIVKey<Result>(_ material: UnsafeRawBufferPointer, _ body: (UnsafePointer<pendulum_siv_cmac_256_key>) -> Result) -> Result {
        var key = pendulum_siv_cmac_256_key()
        defer { pendulum_siv_cmac_256_clear(&key) }
        material.withMemoryRebound(to: UInt8.self) { pendulum_siv_cmac_256_init(&key, $0.baseAddress) }
        return withUnsafePointer(to: &key) { body($0) }
    }

    /// Placeholders among `bytes` read as a sequence of extension fields, by `scanFields`'s
    /// rules and with its errors.
    private static func placeholderCount(inFields bytes: UnsafeRawBufferPointer) throws(NTSPacketError) -> Int {
        var offset = 0
        var count = 0
        while offset < bytes.count {
            let (type, length) = try extensionFieldHeader(in: bytes, at: offset)
            if type == ExtensionFieldType.ntsCookiePlaceholder { count += 1 }
            offset += length
        }
        return count
    }

    private static func copy(_ source: UnsafeRawBufferPointer, _ range: Range<Int>, to destination: UnsafeMutableRawBufferPointer, at offset: Int) {
        UnsafeMutableRawBufferPointer(rebasing: destination[offset..<offset + range.count]).copyMemory(from: UnsafeRawBufferPointer(rebasing: source[range]))
    }

    private static func wipe(_ bytes: UnsafeMutableRawBufferPointer) {
        for index in bytes.indices { bytes[index] = 0 }
    }
}
