import PendulumTime

/// Master side: Announce and two-step Sync/Follow_Up transmission, Delay_Req answering (§9.5, §11.3).
extension PTPPort {
    mutating func announceTimerExpired(context: PTPInstanceContext) -> [PTPAction] {
        guard state == .master else { return [] }
        let parent = context.parent
        let body = PTPAnnounceBody(
            currentUtcOffset: context.timeProperties.currentUtcOffset,
            grandmasterPriority1: parent.grandmasterPriority1, grandmasterClockQuality: parent.grandmasterClockQuality,
            grandmasterPriority2: parent.grandmasterPriority2, grandmasterIdentity: parent.grandmasterIdentity,
            stepsRemoved: context.current.stepsRemoved, timeSource: context.timeProperties.timeSource)
        let announce = message(.announce(body), sequenceId: SequenceCounters.take(&nextSequence.announce),
                               context: context, flags: context.timeProperties.flags)
        return [.send(PTPOutgoingMessage(port: number, message: announce)),
                .armTimer(port: number, timer: .announceTransmit, after: logIntervalDuration(intervals.logAnnounceInterval))]
    }

    mutating func syncTimerExpired(context: PTPInstanceContext) -> [PTPAction] {
        guard state == .master else { return [] }
        let sequenceId = SequenceCounters.take(&nextSequence.sync)
        // Two-step: the origin timestamp may be zero; the precise one follows in Follow_Up.
        // The time-property flags belong to Announce only (Table 37).
        let sync = message(.sync(originTimestamp: .zero), sequenceId: sequenceId, context: context, flags: .twoStep)
        syncAwaitingTimestamp = sequenceId
        return [.send(PTPOutgoingMessage(port: number, message: sync)),
                .armTimer(port: number, timer: .syncTransmit, after: logIntervalDuration(intervals.logSyncInterval))]
    }

    /// The transmit timestamp of our Sync: t1, sent in Follow_Up.
    mutating func syncTransmitted(sequenceId: UInt16, egress: PTPTimestamp, context: PTPInstanceContext) -> [PTPAction] {
        guard state == .master, syncAwaitingTimestamp == sequenceId else { return [] }
        syncAwaitingTimestamp = nil
        let followUp = message(.followUp(preciseOriginTimestamp: egress), sequenceId: sequenceId, context: context)
        return [.send(PTPOutgoingMessage(port: number, message: followUp))]
    }

    /// Delay_Resp carries t4 and the request's correction, so transparent clocks' residence
    /// times on the slave-to-master path are removed by the slave (§11.3.2).
    func answerDelayRequest(_ request: PTPMessage, ingress: PTPTimestamp, context: PTPInstanceContext) -> [PTPAction]? {
        guard state == .master, dataset.delayMechanism == .e2e else { return nil }
        var response = message(.delayResp(receiveTimestamp: ingress, requestingPortIdentity: request.header.sourcePortIdentity),
                               sequenceId: request.header.sequenceId, context: context,
                               correction: request.header.correction)
        response.header.domainNumber = request.header.domainNumber
        return [.send(PTPOutgoingMessage(port: number, message: response))]
    }
}
