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
        admission.closed(1, now: 0)
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
        var admission = NTSKEAdmission(limits: NTSKEAdmission.Limits(prefixRateIntervalNanoseconds: Self.second / 4, prefixRateBurst: 4, abandonedCost: 0))
        let network = Self.ipv4(10, 9, 9, 1)
        for id in 1...4 {
            #expect(admission.admit(UInt64(id), from: network, now: 0) == .admitted(shedding: []))
            admission.closed(UInt64(id), now: 0)
        }
        #expect(admission.admit(5, from: network, now: 0) == .refused(.prefixRate))
        #expect(admission.admit(6, from: Self.ipv4(10, 9, 10, 1), now: 0) == .admitted(shedding: []), "another network has its own budget")
        #expect(admission.admit(7, from: network, now: Self.second / 4) == .admitted(shedding: []), "one more per interval")
    }

    /// Puts `admission` (whose `total` is 2) under pressure at `now`: full once, with the
    /// connections from networks of their own closed again.
    static func press(_ admission: inout NTSKEAdmission, now: Int64) {
        for host in UInt8(1)...3 { admission.admit(1000 + UInt64(host), from: ipv4(10, 200, host, 1), now: now) }
        for host in UInt64(1)...3 { admission.closed(1000 + host, now: now) }
    }

    /// Under a flood, a network whose connections end before their answer (here: closed during
    /// the handshake, and one timed out) is refused long before one whose connections complete.
    @Test func connectionsAbandonedUnderPressureCostTheirNetworkMore() {
        let quarter = Self.second / 4
        let limits = NTSKEAdmission.Limits(total: 2, prefixRateIntervalNanoseconds: quarter, prefixRateBurst: 8, abandonedCost: 4)
        var admission = NTSKEAdmission(limits: limits)
        Self.press(&admission, now: 0)
        let honest = Self.ipv4(10, 1, 0, 1)
        for id in UInt64(1)...8 {
            #expect(admission.admit(id, from: honest, now: 0) == .admitted(shedding: []), "answered connection \(id)")
            admission.entered(.answering, connection: id, now: 0)
            admission.closed(id, now: 0)
        }
        let stalling = Self.ipv4(10, 2, 0, 1)
        #expect(admission.admit(11, from: stalling, now: 0) == .admitted(shedding: []))
        admission.entered(.handshaking, connection: 11, now: 0)
        admission.closed(11, now: 0)
        #expect(admission.admit(12, from: stalling, now: 0) == .admitted(shedding: []))
        admission.closed(12, now: 0)
        // Two connections cost it 2 + 2 × 4: ten intervals ahead, three past its tolerance.
        #expect(admission.admit(13, from: stalling, now: 0) == .refused(.prefixRate))
        #expect(admission.admit(14, from: stalling, now: 3 * quarter) == .admitted(shedding: []))

        // A connection that times out is charged too.
        var timed = NTSKEAdmission(limits: NTSKEAdmission.Limits(total: 2, prefixRateIntervalNanoseconds: quarter, prefixRateBurst: 8, abandonedCost: 8))
        Self.press(&timed, now: 0)
        timed.admit(1, from: stalling, now: 0)
        #expect(timed.expire(now: 2 * Self.second) == [NTSKEAdmission.Expiry(connection: 1, phase: .awaitingHello)])
        #expect(timed.admit(2, from: stalling, now: 2 * Self.second) == .refused(.prefixRate))
        #expect(timed.admit(3, from: stalling, now: 2 * Self.second + quarter) == .admitted(shedding: []))
    }

    /// Without a flood (never full, or full more than ten seconds ago) nothing is charged:
    /// an honest network whose clients fail now and then keeps its whole rate.
    @Test func withoutPressureAbandonedConnectionsCostNothingExtra() {
        let quarter = Self.second / 4
        var admission = NTSKEAdmission(limits: NTSKEAdmission.Limits(total: 2, prefixRateIntervalNanoseconds: quarter, prefixRateBurst: 8, abandonedCost: 64))
        let network = Self.ipv4(10, 4, 0, 1)
        for id in UInt64(1)...8 {
            #expect(admission.admit(id, from: network, now: 0) == .admitted(shedding: []), "connection \(id)")
            admission.closed(id, now: 0)
        }
        #expect(admission.admit(9, from: network, now: 0) == .refused(.prefixRate), "the plain rate still applies")
        Self.press(&admission, now: Self.second)
        let start = 12 * Self.second
        for id in UInt64(21)...28 {
            #expect(admission.admit(id, from: network, now: start) == .admitted(shedding: []), "connection \(id), 11 s after the server was full")
            admission.closed(id, now: start)
        }
    }

    /// However much a network is charged, it is admitted again within 30 s.
    @Test func aChargeHoldsANetworkOffForAtMostHalfAMinute() {
        var admission = NTSKEAdmission(limits: NTSKEAdmission.Limits(total: 2, prefixRateIntervalNanoseconds: Self.second / 4, prefixRateBurst: 8, abandonedCost: 1 << 40))
        Self.press(&admission, now: 0)
        let network = Self.ipv4(10, 3, 0, 1)
        for id in UInt64(1)...8 {
            admission.admit(id, from: network, now: 0)
            admission.closed(id, now: 0)
        }
        // Refused while more than the burst's tolerance (7 × 0.25 s) ahead of its schedule.
        #expect(admission.admit(20, from: network, now: 28 * Self.second) == .refused(.prefixRate))
        #expect(admission.admit(21, from: network, now: 28 * Self.second + Self.second / 4) == .admitted(shedding: []))
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
        admission.closed(4, now: 0)
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
        admission.closed(99, now: 0)
        #expect(admission.shedLongestStalled(limit: 5, now: 5) == [2, 1])
        #expect(admission.count == 0)
        // Everything freed: the address limits count from zero again.
        for id in 3...4 { #expect(admission.admit(UInt64(id), from: Self.ipv4(10, 0, 0, 1), now: 5) == .admitted(shedding: [])) }
    }
}
