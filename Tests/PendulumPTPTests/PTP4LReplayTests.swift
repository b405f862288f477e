import Testing
import PendulumTime
@testable import PendulumPTP

/// Replays a real ptp4l master/slave conversation into an instance that takes the ptp4l slave's
/// place (same clock identity), so the master's Delay_Resp and Pdelay_Resp are addressed to it.
/// Our instance issues its own requests exactly when ptp4l's slave did, with the capture times as
/// timestamps. Both ends ran on one machine's CLOCK_REALTIME, so the true offset is ~0 and the
/// path delay a few tens of µs; the capture point adds a little of its own.
@Suite struct PTP4LReplayTests {
    static let slavePort = PortIdentity(clockIdentity: ClockIdentity(rawValue: PTP4LCaptures.slave), portNumber: 1)

    struct Outcome {
        var instance: PTPInstance
        var measurements: [PTPMeasurement] = []
        var pathDelays: [PTPTimeInterval] = []
        var peerDelays: [PTPTimeInterval] = []
        var answeredPeerRequests = 0
    }

    static func replay(_ records: [PTP4LCaptures.Record], mechanism: DelayMechanism) -> Outcome {
        let intervals = PTPLogIntervals(logAnnounceInterval: 0, logSyncInterval: -1, logMinDelayReqInterval: -1,
                                        logMinPdelayReqInterval: -1)
        var outcome = Outcome(instance: PTPInstance(
            defaults: DefaultDataset(clockIdentity: slavePort.clockIdentity, slaveOnly: true),
            ports: [PTPPortConfiguration(portNumber: 1, intervals: intervals, delayMechanism: mechanism)]))
        let first = records[0]
        func instant(_ record: PTP4LCaptures.Record) -> PTPInstant {
            PTPInstant(nanoseconds: (Int64(record.seconds) - Int64(first.seconds)) * 1_000_000_000
                + Int64(record.nanoseconds) - Int64(first.nanoseconds))
        }
        func collect(_ actions: [PTPAction]) {
            for action in actions {
                switch action {
                case .offsetMeasured(let m): outcome.measurements.append(m)
                case .pathDelayMeasured(_, let delay, _, _): outcome.pathDelays.append(delay)
                case .peerDelayMeasured(_, let delay): outcome.peerDelays.append(delay)
                case .send(let out) where out.message.messageType == .pdelayResp: outcome.answeredPeerRequests += 1
                default: break
                }
            }
        }
        _ = outcome.instance.start(at: .zero)
        for record in records {
            let bytes = PTP4LCapturedMessageTests.bytes(record.hex)
            guard let message = try? PTPMessage(parsing: bytes) else {
                Issue.record("ptp4l message did not parse: \(record.hex)")
                continue
            }
            let now = instant(record)
            let stamp = PTPTimestamp(seconds: record.seconds, nanoseconds: record.nanoseconds)
            if message.header.sourcePortIdentity.clockIdentity.rawValue == PTP4LCaptures.slave {
                // ptp4l's slave sent a request here: we send ours, with the same sequenceId.
                let timer: PTPTimer
                switch message.messageType {
                case .delayReq: timer = .delayRequest
                case .pdelayReq: timer = .peerDelayRequest
                default: continue  // its answers to the master's Pdelay_Req: ours are our own
                }
                let actions = outcome.instance.timerExpired(timer, port: 1, at: now)
                guard case .send(let request) = actions.first, request.message.header.sequenceId == message.header.sequenceId
                else { continue }
                collect(outcome.instance.transmitted(port: 1, messageType: message.messageType,
                                                     sequenceId: message.header.sequenceId, egress: stamp, at: now))
            } else {
                collect(outcome.instance.receive(bytes, onPort: 1, ingress: stamp, at: now))
            }
        }
        return outcome
    }

    @Test func e2eAgainstPtp4lMaster() throws {
        let outcome = Self.replay(PTP4LCaptures.e2e, mechanism: .e2e)
        #expect(outcome.instance.counters.malformed == 0)
        #expect(outcome.instance.port(1)?.state == .slave)
        #expect(outcome.instance.parent.grandmasterIdentity.rawValue == PTP4LCaptures.master)
        #expect(!outcome.pathDelays.isEmpty && !outcome.measurements.isEmpty)
        for delay in outcome.pathDelays { #expect(delay > .zero && delay < .microseconds(100)) }
        for measurement in outcome.measurements { #expect(measurement.offsetFromMaster.magnitude < .microseconds(100)) }
    }

    @Test func p2pAgainstPtp4lMaster() throws {
        let outcome = Self.replay(PTP4LCaptures.p2p, mechanism: .p2p)
        #expect(outcome.instance.counters.malformed == 0)
        #expect(outcome.instance.port(1)?.state == .slave)
        #expect(outcome.peerDelays.count >= 10)
        for delay in outcome.peerDelays { #expect(delay > .zero && delay < .microseconds(100)) }
        #expect(!outcome.measurements.isEmpty)
        for measurement in outcome.measurements { #expect(measurement.offsetFromMaster.magnitude < .microseconds(100)) }
        // ptp4l's master measured its side of the link with our (its slave's) responses; we
        // answered every Pdelay_Req it sent.
        #expect(outcome.answeredPeerRequests >= 10)
    }
}
