import PendulumNTPServer
import PendulumNTSKE
import Testing

/// Who an NTS-KE server keeps under a flood, decided without sockets.
@Suite struct NTSKEAdmissionTests {
    static let second: Int64 = 1_000_000_000

    static func ipv4(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) -> ClientAddress {
        ClientAddress(bytes: [a, b, c, d]) ?? ClientAddress(high: 0, low: 0, isIPv4: true)
    }

    static func limits(total: Int = 512, perAddress: Int = 8, perPrefix: Int = 64, rate: Int64 = 0) -> NTSKEAdmission.Limits {
        NTSKEAdmission.Limits(total: total, perAddress: perAddress, perPrefix: perPrefix, prefixRateIntervalNanoseconds: rate)
    }

    @Test func oneAddressIsRefusedBeyondItsShareWhileAnotherIsAdmitted() {
        var admission = NTSKEAdmission(limits: Self.limits(perAddress: 3))
        let attacker = Self.ipv4(127, 2, 0, 1)
        for id in 1...3 { #expect(admission.admit(UInt64(id), from: attacker, now: 0) == .admitted(shedding: [])) }
        #expect(admission.admit(4, from: attacker, now: 0) == .refused(.addressLimit))
        #expect(admission.admit(5, from: Self.ipv4(127, 0, 0, 1), now: 0) == .admitted(shedding: []))
        admission.closed(1)
        #expect(admission.admit(6, from: attacker, now: 0) == .admitted(shedding: []))
    }

    @Test func oneNetworkIsRefusedBeyondItsShare() {
        var admission = NTSKEAdmission(limits: Self.limits(perPrefix: 4))
        for host in 1...4 { #expect(admission.admit(UInt64(host), from: Self.ipv4(10, 1, 2, UInt8(host)), now: 0) == .admitted(shedding: [])) }
        #expect(admission.admit(9, from: Self.ipv4(10, 1, 2, 200), now: 0) == .refused(.prefixLimit))
        #expect(admission.admit(10, from: Self.ipv4(10, 1, 3, 1), now: 0) == .admitted(shedding: []))
        let v6a = ClientAddress(ipv6High: 0x2001_0db8_0001_0000, low: 1)
        let v6b = ClientAddress(ipv6High: 0x2001_0db8_0001_ffff, low: 2)
        #expect(NTSKEAdmission.prefix(of: v6a) == NTSKEAdmission.prefix(of: v6b), "one /48")
    }

    @Test func newConnectionsPerNetworkAreRateLimitedAfterABurst() {
        var admission = NTSKEAdmission(limits: NTSKEAdmission.Limits(prefixRateIntervalNanoseconds: Self.second / 4, prefixRateBurst: 4))
        let network = Self.ipv4(10, 9, 9, 1)
        for id in 1...4 {
            #expect(admission.admit(UInt64(id), from: network, now: 0) == .admitted(shedding: []))
            admission.closed(UInt64(id))
        }
        #expect(admission.admit(5, from: network, now: 0) == .refused(.prefixRate))
        #expect(admission.admit(6, from: Self.ipv4(10, 9, 10, 1), now: 0) == .admitted(shedding: []), "another network has its own budget")
        #expect(admission.admit(7, from: network, now: Self.second / 4) == .admitted(shedding: []), "one more per interval")
    }

    @Test func aFullServerShedsTheLongestStalledAndNeverOneAnswering() {
        var admission = NTSKEAdmission(limits: Self.limits(total: 3))
        admission.admit(1, from: Self.ipv4(10, 0, 1, 1), now: 0)
        admission.admit(2, from: Self.ipv4(10, 0, 2, 1), now: 1)
        admission.admit(3, from: Self.ipv4(10, 0, 3, 1), now: 2)
        admission.entered(.answering, connection: 1, now: 3)
        // 2 has stalled longest (since 1); 3 made progress at 4.
        admission.entered(.handshaking, connection: 3, now: 4)
        #expect(admission.admit(4, from: Self.ipv4(10, 0, 4, 1), now: 5) == .admitted(shedding: [2]))
        #expect(admission.admit(5, from: Self.ipv4(10, 0, 5, 1), now: 6) == .admitted(shedding: [3]))
        #expect(admission.phase(of: 1) == .answering)
        #expect(admission.count == 3)
    }

    @Test func aFullServerRefusesNetworksThatAlreadyHoldAConnection() {
        var admission = NTSKEAdmission(limits: Self.limits(total: 2))
        admission.admit(1, from: Self.ipv4(10, 0, 1, 1), now: 0)
        admission.admit(2, from: Self.ipv4(10, 0, 2, 1), now: 1)
        #expect(admission.admit(3, from: Self.ipv4(10, 0, 1, 2), now: 2) == .refused(.fullForThisNetwork))
        #expect(admission.admit(4, from: Self.ipv4(10, 0, 3, 1), now: 3) == .admitted(shedding: [1]))
        admission.closed(4)
        #expect(admission.admit(5, from: Self.ipv4(10, 0, 1, 2), now: 4) == .admitted(shedding: []), "not full any more")
    }

    @Test func aServerFullOfAnswersRefuses() {
        var admission = NTSKEAdmission(limits: Self.limits(total: 1))
        admission.admit(1, from: Self.ipv4(10, 0, 1, 1), now: 0)
        admission.entered(.answering, connection: 1, now: 1)
        #expect(admission.admit(2, from: Self.ipv4(10, 0, 2, 1), now: 2) == .refused(.full))
    }

    @Test func eachPhaseHasItsDeadlineAndTheWholeConnectionOneMore() {
        let limits = NTSKEAdmission.Limits(
            helloNanoseconds: 2 * Self.second, handshakeNanoseconds: 2 * Self.second,
            requestNanoseconds: 2 * Self.second, connectionNanoseconds: 5 * Self.second, prefixRateIntervalNanoseconds: 0
        )
        var admission = NTSKEAdmission(limits: limits)
        admission.admit(1, from: Self.ipv4(10, 0, 0, 1), now: 0)
        admission.admit(2, from: Self.ipv4(10, 0, 0, 2), now: 0)
        admission.entered(.handshaking, connection: 2, now: Self.second)
        #expect(admission.expire(now: 2 * Self.second - 1).isEmpty)
        #expect(admission.expire(now: 2 * Self.second) == [NTSKEAdmission.Expiry(connection: 1, phase: .awaitingHello)])
        admission.entered(.awaitingRequest, connection: 2, now: 2 * Self.second + 500_000_000)
        #expect(admission.expire(now: 4 * Self.second).isEmpty)
        // The request phase would last until 4.5 s, the connection as a whole until 5 s.
        #expect(admission.expire(now: 4 * Self.second + 500_000_000) == [NTSKEAdmission.Expiry(connection: 2, phase: .awaitingRequest)])
        #expect(admission.count == 0)
    }

    @Test func phasesOnlyMoveForwardAndUnknownConnectionsAreIgnored() {
        var admission = NTSKEAdmission(limits: Self.limits(total: 2))
        admission.admit(1, from: Self.ipv4(10, 0, 0, 1), now: 0)
        admission.admit(2, from: Self.ipv4(10, 0, 0, 2), now: 1)
        admission.entered(.awaitingRequest, connection: 1, now: 2)
        admission.entered(.handshaking, connection: 1, now: 3)
        #expect(admission.phase(of: 1) == .awaitingRequest)
        admission.entered(.handshaking, connection: 99, now: 3)
        admission.closed(99)
        #expect(admission.shedLongestStalled(limit: 5) == [2, 1])
        #expect(admission.count == 0)
        // Everything freed: the address limits count from zero again.
        for id in 3...4 { #expect(admission.admit(UInt64(id), from: Self.ipv4(10, 0, 0, 1), now: 5) == .admitted(shedding: [])) }
    }
}
