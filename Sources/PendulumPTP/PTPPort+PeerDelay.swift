import PendulumTime

/// The peer delay mechanism (§11.4): requester and two-step responder. As requester it accepts
/// one-step responders (turnaround in Pdelay_Resp.correction) and two-step ones
/// (t2 in Pdelay_Resp, t3 in Pdelay_Resp_Follow_Up):
///   meanLinkDelay = ((t4 − t1) − (t3 − t2) − Pdelay_Resp.correction − Pdelay_Resp_Follow_Up.correction) / 2
extension PTPPort {
    mutating func peerDelayTimerExpired(context: PTPInstanceContext) -> [PTPAction] {
        guard dataset.delayMechanism == .p2p, ![.initializing, .faulty, .disabled].contains(state) else { return [] }
        let sequenceId = SequenceCounters.take(&nextSequence.peerDelayRequest)
        pendingPeerDelay = PendingPeerDelay(sequenceId: sequenceId)
        let request = message(.pdelayReq(originTimestamp: .zero, reserved: PTPReservedBytes()), sequenceId: sequenceId,
                              context: context)
        return [.send(PTPOutgoingMessage(port: number, message: request)),
                .armTimer(port: number, timer: .peerDelayRequest, after: logIntervalDuration(intervals.logMinPdelayReqInterval))]
    }

    mutating func peerDelayRequestTransmitted(sequenceId: UInt16, egress: PTPTimestamp) -> [PTPAction] {
        guard var pending = pendingPeerDelay, pending.sequenceId == sequenceId, pending.t1 == nil else { return [] }
        pending.t1 = egress
        pendingPeerDelay = pending
        return completePeerDelay()
    }

    /// Responder: answer with Pdelay_Resp carrying t2; t3 follows in Pdelay_Resp_Follow_Up
    /// once the shell reports the transmit timestamp.
    mutating func answerPeerDelayRequest(_ request: PTPMessage, ingress: PTPTimestamp, context: PTPInstanceContext) -> [PTPAction]? {
        guard dataset.delayMechanism == .p2p, ![.initializing, .faulty, .disabled].contains(state) else { return nil }
        let header = request.header
        var response = message(.pdelayResp(requestReceiptTimestamp: ingress, requestingPortIdentity: header.sourcePortIdentity),
                               sequenceId: header.sequenceId, context: context, flags: .twoStep)
        response.header.domainNumber = header.domainNumber
        response.header.sdoId = header.sdoId
        // Bound the bookkeeping if requests arrive faster than transmit timestamps.
        if peerDelayResponsesAwaitingTimestamp.count >= 8 { peerDelayResponsesAwaitingTimestamp.removeAll() }
        peerDelayResponsesAwaitingTimestamp[header.sequenceId] = PendingPeerDelayResponse(
            requester: header.sourcePortIdentity, requestCorrection: header.correction,
            domainNumber: header.domainNumber, sdoId: header.sdoId)
        return [.send(PTPOutgoingMessage(port: number, message: response))]
    }

    mutating func peerDelayResponseTransmitted(sequenceId: UInt16, egress: PTPTimestamp, context: PTPInstanceContext) -> [PTPAction] {
        guard let pending = peerDelayResponsesAwaitingTimestamp.removeValue(forKey: sequenceId) else { return [] }
        var followUp = message(.pdelayRespFollowUp(responseOriginTimestamp: egress, requestingPortIdentity: pending.requester),
                               sequenceId: sequenceId, context: context, correction: pending.requestCorrection)
        followUp.header.domainNumber = pending.domainNumber
        followUp.header.sdoId = pending.sdoId
        return [.send(PTPOutgoingMessage(port: number, message: followUp))]
    }

    mutating func receivePeerDelayResponse(_ response: PTPMessage, requestReceipt: PTPTimestamp, requester: PortIdentity,
                                           ingress: PTPTimestamp) -> [PTPAction]? {
        guard dataset.delayMechanism == .p2p, requester == identity, var pending = pendingPeerDelay,
              pending.sequenceId == response.header.sequenceId, pending.t4 == nil else { return nil }
        pending.t4 = ingress
        pending.responder = response.header.sourcePortIdentity
        pending.corrections = response.header.correction
        if response.header.flags.contains(.twoStep) {
            pending.requestReceipt = requestReceipt
            pending.awaitingFollowUp = true
        } else {
            // One-step: the responder put t3 − t2 into the correction itself.
            pending.turnaround = .zero
        }
        pendingPeerDelay = pending
        return completePeerDelay()
    }

    mutating func receivePeerDelayResponseFollowUp(_ followUp: PTPMessage, responseOrigin: PTPTimestamp,
                                                   requester: PortIdentity) -> [PTPAction]? {
        guard dataset.delayMechanism == .p2p, requester == identity, var pending = pendingPeerDelay,
              pending.sequenceId == followUp.header.sequenceId, pending.awaitingFollowUp,
              pending.responder == followUp.header.sourcePortIdentity,
              let t2 = pending.requestReceipt else { return nil }
        pending.turnaround = responseOrigin - t2
        pending.corrections += followUp.header.correction
        pending.awaitingFollowUp = false
        pendingPeerDelay = pending
        return completePeerDelay()
    }

    private mutating func completePeerDelay() -> [PTPAction] {
        guard let pending = pendingPeerDelay, let t1 = pending.t1, let t4 = pending.t4, !pending.awaitingFollowUp,
              let turnaround = pending.turnaround else { return [] }
        pendingPeerDelay = nil
        let delay = ((t4 - t1) - turnaround - pending.corrections).halved
        meanLinkDelay = delay
        dataset.peerMeanPathDelay = delay
        latestPeerLegs = nil
        if let t2 = pending.requestReceipt, let responder = pending.responder {
            let t3 = t2 + turnaround
            let share = pending.corrections.halved
            latestPeerLegs = PeerExchangeLegs(responder: responder, meanLinkDelay: delay,
                                              requestLeg: (t2 - t1) - share, responseLeg: (t4 - t3) - share)
        }
        return [.peerDelayMeasured(port: number, meanLinkDelay: delay)]
    }
}
