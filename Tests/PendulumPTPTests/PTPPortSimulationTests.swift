import Testing
import PendulumTime
@testable import PendulumPTP

private let masterIdentity = ClockIdentity(rawValue: 0x0000_00FF_FE00_0001)
private let slaveIdentity = ClockIdentity(rawValue: 0x0000_00FF_FE00_0002)

private func instance(_ identity: ClockIdentity, priority1: UInt8 = 128, clockClass: UInt8 = 248, slaveOnly: Bool = false,
                      mechanism: DelayMechanism = .e2e, ports: [UInt16] = [1], domain: UInt8 = 0, announceReceiptTimeout: UInt8 = 3,
                      intervals: PTPLogIntervals = PTPLogIntervals(logAnnounceInterval: 0, logSyncInterval: -1,
                                                                   logMinDelayReqInterval: -1, logMinPdelayReqInterval: -1)) -> PTPInstance {
    PTPInstance(defaults: DefaultDataset(clockIdentity: identity, clockQuality: ClockQuality(clockClass: clockClass),
                                         priority1: priority1, domainNumber: domain, slaveOnly: slaveOnly),
                localTimeProperties: TimePropertiesDataset(currentUtcOffset: 37, currentUtcOffsetValid: true, ptpTimescale: true),
                ports: ports.map { PTPPortConfiguration(portNumber: $0, intervals: intervals, announceReceiptTimeout: announceReceiptTimeout,
                                                       delayMechanism: mechanism) })
}

@Suite struct PTPPortSimulationTests {
    let master = PTPNetworkSimulation.Endpoint(node: 0, port: 1)
    let slave = PTPNetworkSimulation.Endpoint(node: 1, port: 1)

    func masterSlave(mechanism: DelayMechanism, slaveOffset: Int64, masterToSlave: Int64, slaveToMaster: Int64,
                     residence: Int64 = 0) -> PTPNetworkSimulation {
        var simulation = PTPNetworkSimulation(
            nodes: [instance(masterIdentity, clockClass: 6, mechanism: mechanism),
                    instance(slaveIdentity, slaveOnly: true, mechanism: mechanism)],
            clockOffsets: [0, slaveOffset])
        simulation.connect(master, slave, aToB: masterToSlave, bToA: slaveToMaster, residence: residence)
        simulation.start()
        return simulation
    }

    @Test func e2eSlaveReachesSlaveAndMeasuresExactly() throws {
        var simulation = masterSlave(mechanism: .e2e, slaveOffset: 10_000_000, masterToSlave: 50_000, slaveToMaster: 30_000)
        simulation.run(untilSeconds: 10)
        #expect(simulation.nodes[0].port(1)?.state == .master)
        #expect(simulation.nodes[1].port(1)?.state == .slave)
        #expect(simulation.nodes[1].parent.grandmasterIdentity == masterIdentity)
        #expect(simulation.nodes[1].current.stepsRemoved == 1)
        #expect(simulation.nodes[1].timeProperties.currentUtcOffset == 37)
        #expect(simulation.nodes[1].timeProperties.currentUtcOffsetValid)
        let measurements = try #require(simulation.measurements[1])
        #expect(measurements.count > 5)
        // Delay is the mean of the two directions; the asymmetry (50 − 30)/2 µs shows in the offset.
        for measurement in measurements {
            #expect(measurement.meanPathDelay == .nanoseconds(40_000))
            #expect(measurement.offsetFromMaster == .nanoseconds(10_000_000 + 10_000))
        }
        #expect(simulation.pathDelays[1]?.allSatisfy { $0 == .nanoseconds(40_000) } == true)
        #expect(simulation.nodes[1].current.offsetFromMaster == .nanoseconds(10_010_000))
        #expect(simulation.nodes[0].counters.malformed == 0 && simulation.nodes[1].counters.malformed == 0)
    }

    @Test func e2eSymmetricPathGivesTheTrueOffsetEvenWithTransparentClockCorrections() throws {
        var simulation = masterSlave(mechanism: .e2e, slaveOffset: -2_500_000, masterToSlave: 20_000, slaveToMaster: 20_000,
                                     residence: 7_777)
        simulation.run(untilSeconds: 8)
        #expect(simulation.nodes[1].port(1)?.state == .slave)
        let measurements = try #require(simulation.measurements[1])
        #expect(!measurements.isEmpty)
        for measurement in measurements {
            #expect(measurement.offsetFromMaster == .nanoseconds(-2_500_000))
            #expect(measurement.meanPathDelay == .nanoseconds(20_000))
        }
    }

    @Test func p2pSlaveReachesSlaveAndMeasuresExactly() throws {
        var simulation = masterSlave(mechanism: .p2p, slaveOffset: 10_000_000, masterToSlave: 50_000, slaveToMaster: 30_000)
        simulation.run(untilSeconds: 10)
        #expect(simulation.nodes[0].port(1)?.state == .master)
        #expect(simulation.nodes[1].port(1)?.state == .slave)
        let measurements = try #require(simulation.measurements[1])
        #expect(measurements.count > 5)
        for measurement in measurements {
            #expect(measurement.meanPathDelay == .nanoseconds(40_000))
            #expect(measurement.offsetFromMaster == .nanoseconds(10_010_000))
        }
        // Both ends measure the link (the master is a responder and a requester).
        #expect(simulation.peerDelays[0]?.last == .nanoseconds(40_000))
        #expect(simulation.peerDelays[1]?.last == .nanoseconds(40_000))
        #expect(simulation.sentTypes[1]?.contains(.delayReq) == false)
        #expect(simulation.sentTypes[0]?.contains(.pdelayRespFollowUp) == true)
    }

    @Test func masterSendsTwoStepSyncAndEveryMessageCarriesItsInterval() throws {
        var simulation = masterSlave(mechanism: .e2e, slaveOffset: 0, masterToSlave: 1_000, slaveToMaster: 1_000)
        simulation.run(untilSeconds: 8)
        let sent = try #require(simulation.sentMessages[0])
        let syncs = sent.filter { $0.messageType == .sync }
        // MASTER after 3 s of silence (announceReceiptTimeout), then a Sync every 2⁻¹ s.
        #expect(syncs.count == 11)
        #expect(syncs.allSatisfy { $0.header.flags.contains(.twoStep) && $0.header.logMessageInterval == -1 })
        #expect(sent.filter { $0.messageType == .followUp }.count == syncs.count)
        #expect(sent.filter { $0.messageType == .announce }.allSatisfy { $0.header.logMessageInterval == 0 })
        #expect(sent.filter { $0.messageType == .delayResp }.allSatisfy { $0.header.logMessageInterval == -1 })
        let slaveSent = try #require(simulation.sentMessages[1])
        #expect(slaveSent.filter { $0.messageType == .delayReq }.allSatisfy { $0.header.logMessageInterval == 0x7F })
        #expect(!slaveSent.contains { $0.messageType == .announce })  // slave-only never announces
        // Follow_Up's sequenceId matches its Sync.
        let followUps = sent.filter { $0.messageType == .followUp }.map(\.header.sequenceId)
        #expect(followUps == syncs.prefix(followUps.count).map(\.header.sequenceId))
    }

    @Test func stateSequenceOfTheSlave() throws {
        var simulation = masterSlave(mechanism: .e2e, slaveOffset: 0, masterToSlave: 1_000, slaveToMaster: 1_000)
        simulation.run(untilSeconds: 8)
        let states = try #require(simulation.stateChanges[1]).map(\.1)
        #expect(states == [.listening, .uncalibrated, .slave])
        #expect(simulation.stateChanges[0]?.map(\.1) == [.listening, .master])
    }

    @Test func announceReceiptTimeoutReturnsSlaveOnlyToListeningAndMasterCapableToMaster() throws {
        // Slave-only clock loses its master.
        var simulation = masterSlave(mechanism: .e2e, slaveOffset: 0, masterToSlave: 1_000, slaveToMaster: 1_000)
        simulation.run(untilSeconds: 8)
        #expect(simulation.nodes[1].port(1)?.state == .slave)
        simulation.disconnect(master)
        simulation.run(untilSeconds: 12)  // 3 announce intervals of 1 s
        #expect(simulation.nodes[1].port(1)?.state == .listening)

        // A master-capable clock that loses its master becomes master itself.
        var other = PTPNetworkSimulation(nodes: [instance(masterIdentity, priority1: 1), instance(slaveIdentity, priority1: 200)],
                                         clockOffsets: [0, 0])
        other.connect(master, slave, aToB: 1_000, bToA: 1_000)
        other.start()
        other.run(untilSeconds: 8)
        #expect(other.nodes[0].port(1)?.state == .master)
        #expect(other.nodes[1].port(1)?.state == .slave)
        other.disconnect(master)
        other.run(untilSeconds: 14)
        #expect(other.nodes[1].port(1)?.state == .master)
        #expect(other.nodes[1].parent.grandmasterIdentity == slaveIdentity)
    }

    @Test(arguments: [(UInt8(1), UInt8(200)), (UInt8(200), UInt8(1))])
    func betterPriority1WinsBetweenTwoMasterCapableClocks(priorities: (UInt8, UInt8)) throws {
        var simulation = PTPNetworkSimulation(
            nodes: [instance(masterIdentity, priority1: priorities.0), instance(slaveIdentity, priority1: priorities.1)],
            clockOffsets: [0, 3_000])
        simulation.connect(master, slave, aToB: 1_000, bToA: 1_000)
        simulation.start()
        simulation.run(untilSeconds: 10)
        let winner = priorities.0 < priorities.1 ? 0 : 1
        let loser = 1 - winner
        #expect(simulation.nodes[winner].port(1)?.state == .master)
        #expect(simulation.nodes[loser].port(1)?.state == .slave)
        #expect(simulation.nodes[loser].parent.grandmasterIdentity == simulation.nodes[winner].defaults.clockIdentity)
        let offset = try #require(simulation.measurements[loser]?.last).offsetFromMaster
        #expect(offset == .nanoseconds(winner == 0 ? 3_000 : -3_000))
    }

    @Test func boundaryClockRelaysTheGrandmaster() throws {
        let boundaryIdentity = ClockIdentity(rawValue: 0x0000_00FF_FE00_00B0)
        var simulation = PTPNetworkSimulation(
            nodes: [instance(masterIdentity, clockClass: 6), instance(boundaryIdentity, ports: [1, 2], announceReceiptTimeout: 10),
                    instance(slaveIdentity, slaveOnly: true)],
            clockOffsets: [0, 1_000_000, -4_000_000])
        let boundaryUp = PTPNetworkSimulation.Endpoint(node: 1, port: 1)
        let boundaryDown = PTPNetworkSimulation.Endpoint(node: 1, port: 2)
        let leaf = PTPNetworkSimulation.Endpoint(node: 2, port: 1)
        simulation.connect(master, boundaryUp, aToB: 10_000, bToA: 10_000)
        simulation.connect(boundaryDown, leaf, aToB: 5_000, bToA: 5_000)
        simulation.start()
        simulation.run(untilSeconds: 25)
        #expect(simulation.nodes[1].port(1)?.state == .slave)
        #expect(simulation.nodes[1].port(2)?.state == .master)
        // Port 2 hears nobody; when it stops listening (after 10 s) the grandmaster is already
        // behind port 1, so it qualifies first (M3) for (stepsRemoved + 1) announce intervals.
        let downstreamStates = try #require(simulation.stateChanges[1]).filter { $0.0 == 2 }.map(\.1)
        #expect(downstreamStates == [.listening, .preMaster, .master])
        #expect(simulation.nodes[2].port(1)?.state == .slave)
        #expect(simulation.nodes[2].parent.grandmasterIdentity == masterIdentity)
        #expect(simulation.nodes[2].parent.parentPortIdentity == PortIdentity(clockIdentity: boundaryIdentity, portNumber: 2))
        #expect(simulation.nodes[2].current.stepsRemoved == 2)
        // The leaf measures against the boundary clock's own (undisciplined) time.
        #expect(simulation.measurements[2]?.last?.offsetFromMaster == .nanoseconds(-5_000_000))
        #expect(simulation.measurements[1]?.last?.offsetFromMaster == .nanoseconds(1_000_000))
        // The boundary clock announces the grandmaster, one step further.
        let announce = try #require(simulation.sentMessages[1]?.last { $0.messageType == .announce })
        guard case .announce(let body) = announce.body else { Issue.record("not an announce"); return }
        #expect(body.grandmasterIdentity == masterIdentity && body.stepsRemoved == 1)
        #expect(announce.header.sourcePortIdentity.portNumber == 2)
    }
}
