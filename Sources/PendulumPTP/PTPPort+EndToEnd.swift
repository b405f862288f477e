import PendulumTime

/// Slave side of Sync/Follow_Up and the delay request-response mechanism (§11.3), in integer
/// units of 2⁻¹⁶ ns:
///   t2' = t2 − Sync.correction, t1' = t1 + Follow_Up.correction, t4' = t4 − Delay_Resp.correction
///   meanPathDelay = ((t2' − t1') + (t4' − t3)) / 2
///   offsetFromMaster = (t2' − t1') − meanPathDelay   (P2P: − meanLinkDelay)
extension PTPPort {
    var acceptsSync: Bool { state == .slave || state == .uncalibrated }

    mutating func receiveSync(_ sync: PTPMessage, originTimestamp: PTPTimestamp, ingress: PTPTimestamp,
                              context: PTPInstanceContext, now: PTPInstant) -> [PTPAction]? {
        guard acceptsSync, sync.header.sourcePortIdentity == context.parent.parentPortIdentity else { return nil }
        let header = sync.header
        if header.flags.contains(.twoStep) {
            pendingSync = PendingSync(sequenceId: header.sequenceId, source: header.sourcePortIdentity,
                                      ingress: ingress, correction: header.correction)
            if let early = earlyFollowUp, early.sequenceId == header.sequenceId, early.source == header.sourcePortIdentity {
                earlyFollowUp = nil
                return completeSync(origin: early.preciseOrigin, originCorrection: early.correction, context: context, now: now)
            }
            return []
        }
        // One-step: the origin timestamp is precise and the correction covers the rest.
        pendingSync = PendingSync(sequenceId: header.sequenceId, source: header.sourcePortIdentity,
                                  ingress: ingress, correction: header.correction)
        return completeSync(origin: originTimestamp, originCorrection: .zero, context: context, now: now)
    }

    mutating func receiveFollowUp(_ followUp: PTPMessage, preciseOrigin: PTPTimestamp, context: PTPInstanceContext,
                                  now: PTPInstant) -> [PTPAction]? {
        guard acceptsSync, followUp.header.sourcePortIdentity == context.parent.parentPortIdentity else { return nil }
        guard let pending = pendingSync, pending.sequenceId == followUp.header.sequenceId else {
            // Follow_Up may overtake its Sync on a busy host; keep it for one Sync.
            earlyFollowUp = EarlyFollowUp(sequenceId: followUp.header.sequenceId, source: followUp.header.sourcePortIdentity,
                                          preciseOrigin: preciseOrigin, correction: followUp.header.correction)
            return []
        }
        return completeSync(origin: preciseOrigin, originCorrection: followUp.header.correction, context: context, now: now)
    }

    private mutating func completeSync(origin: PTPTimestamp, originCorrection: PTPTimeInterval,
                                       context: PTPInstanceContext, now: PTPInstant) -> [PTPAction] {
        guard let pending = pendingSync else { return [] }
        pendingSync = nil
        let masterToSlave = (pending.ingress - origin) - pending.correction - originCorrection
        lastSync = CompletedSync(sequenceId: pending.sequenceId, origin: origin, ingress: pending.ingress,
                                 masterToSlave: masterToSlave)
        let delay: PTPTimeInterval? = dataset.delayMechanism == .p2p ? meanLinkDelay : meanPathDelay
        guard let delay else { return [] }
        // A saturated delay says nothing; the wide offset then leaves the delay out (it is tiny
        // next to an offset of days).
        let corrections = pending.correction + originCorrection + (delay.isSaturated ? .zero : delay)
        let wideOffset = pending.ingress.nanoseconds(since: origin).subtractingSaturating(corrections.roundedNanoseconds)
        let measurement = PTPMeasurement(port: number, offsetFromMaster: masterToSlave - delay,
                                         offsetFromMasterNanoseconds: wideOffset,
                                         exceedsIntervalRange: masterToSlave.isSaturated || delay.isSaturated,
                                         masterToSlave: masterToSlave,
                                         meanPathDelay: delay,
                                         ingressTimestamp: pending.ingress, originTimestamp: origin + originCorrection,
                                         syncSequenceId: pending.sequenceId, instant: now)
        return [.offsetMeasured(measurement)]
    }

    mutating func delayRequestTimerExpired(context: PTPInstanceContext) -> [PTPAction] {
        guard acceptsSync, dataset.delayMechanism == .e2e else { return [] }
        let sequenceId = SequenceCounters.take(&nextSequence.delayRequest)
        pendingDelayRequest = PendingDelayRequest(sequenceId: sequenceId)
        let request = message(.delayReq(originTimestamp: .zero), sequenceId: sequenceId, context: context)
        return [.send(PTPOutgoingMessage(port: number, message: request)),
                .armTimer(port: number, timer: .delayRequest, after: delayRequestInterval)]
    }

    mutating func delayRequestTransmitted(sequenceId: UInt16, egress: PTPTimestamp) -> [PTPAction] {
        guard var pending = pendingDelayRequest, pending.sequenceId == sequenceId, pending.egress == nil else { return [] }
        pending.egress = egress
        pendingDelayRequest = pending
        return completeDelayMeasurement()
    }

    mutating func receiveDelayResponse(_ response: PTPMessage, receiveTimestamp: PTPTimestamp,
                                       requester: PortIdentity, context: PTPInstanceContext) -> [PTPAction]? {
        guard acceptsSync, dataset.delayMechanism == .e2e, requester == identity,
              response.header.sourcePortIdentity == context.parent.parentPortIdentity,
              var pending = pendingDelayRequest, pending.sequenceId == response.header.sequenceId,
              pending.receipt == nil else { return nil }
        // The master tells us how often it wants Delay_Req (§9.5.11.2).
        if response.header.logMessageInterval != 0x7F {
            masterLogMinDelayReqInterval = response.header.logMessageInterval
        }
        pending.receiptCorrection = -response.header.correction
        pending.receipt = receiveTimestamp
        pendingDelayRequest = pending
        return completeDelayMeasurement()
    }

    private mutating func completeDelayMeasurement() -> [PTPAction] {
        guard let pending = pendingDelayRequest, let t3 = pending.egress, let t4 = pending.receipt,
              let t4Correction = pending.receiptCorrection, let sync = lastSync else { return [] }
        pendingDelayRequest = nil
        let slaveToMaster = (t4 - t3) + t4Correction
        // Saturated legs (clocks more than ±39 h apart) would cancel into a meaningless delay.
        let delay = sync.masterToSlave.isSaturated || slaveToMaster.isSaturated
            ? PTPTimeInterval.max : (sync.masterToSlave + slaveToMaster).halved
        meanPathDelay = delay
        return [.pathDelayMeasured(port: number, meanPathDelay: delay, masterToSlave: sync.masterToSlave,
                                   slaveToMaster: slaveToMaster)]
    }
}
