import PendulumDiscipline
import PendulumNTP
import PendulumNTPClient
import PendulumNTPServer
import PendulumNTS
import PendulumTime
import Testing

/// The client core's actions, one by one: what it asks the shell to do for each event.
@Suite struct NTPClientCoreTests {
    static let server = SourceSpecification(host: "ntp.test", port: 123)

    @Test func startPollsEveryServerAtOnceAndChecksPoolsAtOnce() {
        var core = NTPClientCore(sources: [Self.server, SourceSpecification(host: "pool.test", mode: .pool, poolCount: 2)])
        let actions = core.start()
        #expect(actions == [.setTimer(.poll(SourceID(0)), after: .zero), .setTimer(.poolMaintenance, after: .zero)])
    }

    @Test func aNameIsResolvedBeforeTheFirstRequestAndTheAnswerStepsTheClock() throws {
        var harness = Harness([Self.server])
        _ = harness.core.start()
        let id = SourceID(0)
        let polled = harness.core.timerFired(.poll(id), at: harness.now)
        #expect(polled == [.resolve(id, host: "ntp.test", port: 123), .setTimer(.deadline(id), after: .seconds(15))])

        let resolved = harness.core.resolved(id, addresses: [World.address], at: harness.now)
        let sends = World.sends(resolved)
        #expect(sends.count == 1 && sends.first?.address == World.address && sends.first?.id == id)
        #expect(World.timer(.deadline(id), in: resolved) == .seconds(1))
        let request = try NTPPacket(parsing: sends.first?.bytes ?? [])
        #expect(request.header.mode == .client)
        // The transmit timestamp is a nonce, never the real send time.
        #expect(request.header.transmitTimestamp != harness.now)

        var server = TestServer(offset: .milliseconds(500))
        harness.core.transmitted(id, at: harness.now)
        let answerBytes = server.answer(sends[0].bytes, at: harness.now + .microseconds(100))
        let answer = try #require(answerBytes)
        let actions = harness.core.received(answer, from: id, at: harness.now + .microseconds(200))
        #expect(actions.first == .cancelTimer(.deadline(id)))
        let steps = World.steps(actions)
        #expect(steps.count == 1)
        #expect(abs((steps.first ?? .zero).seconds - 0.5) < 1e-4)
        #expect(World.logs(actions, .notice).contains { $0.hasPrefix("clock stepped by") })
        #expect(actions.contains { if case .setSynchronized = $0 { true } else { false } })
        // During the start-up burst the next poll follows within a second or two.
        let next = try #require(World.timer(.poll(id), in: actions))
        #expect(next <= .seconds(2))
        let status = harness.core.sourceStatuses(at: harness.now)
        #expect(status.first?.reach == 1 && status.first?.address == World.address && status.first?.stratum == 2)
        #expect(harness.core.stepCount == 1)
    }

    @Test func repliesThatAreNotTheAnswerAreIgnoredAndTheDeadlineCountsAMiss() throws {
        var harness = Harness([Self.server])
        _ = harness.core.start()
        let id = SourceID(0)
        let sent = try #require(World.sends(harness.poll(id)).first)
        var server = TestServer()
        let answerBytes = server.answer(sent.bytes, at: harness.now)
        let answer = try #require(answerBytes)
        // Before the shell reported the send, nothing can be measured.
        #expect(harness.core.received(answer, from: id, at: harness.now).isEmpty)
        harness.core.transmitted(id, at: harness.now)
        #expect(harness.core.received([0x17, 0x00], from: id, at: harness.now).isEmpty)
        // An answer to some other request (another nonce).
        var stranger = NTPClientCore(sources: [Self.server], random: ClientRandomSource(seed: 99))
        _ = stranger.start()
        _ = stranger.timerFired(.poll(id), at: harness.now)
        let strangerRequest = try #require(World.sends(stranger.resolved(id, addresses: [World.address], at: harness.now)).first)
        let forgedBytes = server.answer(strangerRequest.bytes, at: harness.now)
        let forged = try #require(forgedBytes)
        #expect(harness.core.received(forged, from: id, at: harness.now).isEmpty)

        let timedOut = harness.core.timerFired(.deadline(id), at: harness.now + .seconds(1))
        #expect(timedOut.first == .cancelTimer(.deadline(id)))
        #expect(World.logs(timedOut, .info) == ["source ntp.test:123: no reply"])
        #expect(World.timer(.poll(id), in: timedOut) != nil)
        #expect(harness.core.sourceStatuses(at: harness.now).first?.reach == 0)
        #expect(harness.core.sourceStatuses(at: harness.now).first?.lastError == "no reply")
        // The answer that finally comes is too late.
        #expect(harness.core.received(answer, from: id, at: harness.now + .seconds(2)).isEmpty)
    }

    @Test func aRateKissBacksOffExponentially() throws {
        func kiss(for request: [UInt8]) throws -> [UInt8] {
            let nonce = try NTPPacket(parsing: request).header.transmitTimestamp
            var bytes: [UInt8] = []
            NTPHeader(leap: .unsynchronized, mode: .server, stratum: 0, referenceID: ReferenceID(ascii: "RATE"), originTimestamp: nonce).write(to: &bytes)
            return bytes
        }
        var harness = Harness([Self.server])
        _ = harness.core.start()
        let id = SourceID(0)
        var intervals: [NTPDuration] = []
        for _ in 0..<2 {
            let sent = try #require(World.sends(harness.poll(id)).first)
            harness.core.transmitted(id, at: harness.now)
            let actions = harness.core.received(try kiss(for: sent.bytes), from: id, at: harness.now)
            #expect(actions.contains(.cancelTimer(.deadline(id))))
            intervals.append(try #require(World.timer(.poll(id), in: actions)))
        }
        // A plain miss for comparison: the same poll state without the back-off.
        var plain = Harness([Self.server])
        _ = plain.core.start()
        _ = plain.poll(id)
        let missed = try #require(World.timer(.poll(id), in: plain.core.timerFired(.deadline(id), at: plain.now)))
        #expect(intervals[0] - missed == .seconds(2))
        #expect(intervals[1] - missed >= .seconds(4))
        #expect(harness.core.sourceStatuses(at: harness.now).first?.lastError == "kiss-o'-death RATE")
    }

    @Test func anExchangeThatStraddledAStepIsNotUsed() throws {
        var configuration = DisciplineConfiguration()
        configuration.minimumAgreeingSources = 1
        // Step on the first answer, without waiting for the second source's.
        configuration.startupGatherTime = 0
        var harness = Harness([Self.server, SourceSpecification(host: "other.test")], configuration: configuration)
        _ = harness.core.start()
        let first = SourceID(0)
        let second = SourceID(1)
        // The second source's request goes out first, and its answer is slow.
        let slow = try #require(World.sends(harness.poll(second, address: World.otherAddress)).first)
        harness.core.transmitted(second, at: harness.now)
        var slowServer = TestServer(offset: .milliseconds(500))
        let slowAnswerBytes = slowServer.answer(slow.bytes, at: harness.now + .microseconds(100))
        let slowAnswer = try #require(slowAnswerBytes)

        var server = TestServer(offset: .milliseconds(500))
        let stepped = harness.exchange(first, with: &server)
        #expect(World.steps(stepped).count == 1)
        let late = harness.core.received(slowAnswer, from: second, at: harness.now + .milliseconds(5))
        #expect(World.steps(late).isEmpty)
        #expect(!late.contains { if case .steer = $0 { true } else { false } })
        #expect(World.timer(.poll(second), in: late) != nil)
        #expect(harness.core.stepCount == 1)
    }

    @Test func aFailedSendForgetsTheAddressAndEightMissesResolveTheNameAgain() throws {
        var harness = Harness([Self.server])
        _ = harness.core.start()
        let id = SourceID(0)
        _ = harness.poll(id)
        let failed = harness.core.exchangeFailed(id, reason: "send: Network is unreachable", at: harness.now)
        #expect(World.logs(failed, .warning) == ["source ntp.test:123: send: Network is unreachable"])
        let again = harness.core.timerFired(.poll(id), at: harness.now)
        #expect(again.first == .resolve(id, host: "ntp.test", port: 123))
        _ = harness.core.resolved(id, addresses: [World.address], at: harness.now)
        // Misses 2…8: the eighth in a row starts afresh.
        var last: [ClientAction] = []
        for miss in 2...8 {
            if miss > 2 { _ = harness.core.timerFired(.poll(id), at: harness.now) }
            last = harness.core.timerFired(.deadline(id), at: harness.now)
        }
        #expect(World.logs(last, .info).contains { $0.contains("8 polls unanswered") && $0.contains("resolving its name again") })
        #expect(harness.core.timerFired(.poll(id), at: harness.now).first == .resolve(id, host: "ntp.test", port: 123))
        let unresolved = harness.core.resolutionFailed(id, reason: "cannot resolve ntp.test: no such name", at: harness.now)
        #expect(World.timer(.poll(id), in: unresolved) != nil)
        #expect(harness.core.sourceStatuses(at: harness.now).first?.lastError == "cannot resolve ntp.test: no such name")
    }

    @Test func subSecondPollingWaitsForAnAnswerAtMostOneInterval() throws {
        for (minpoll, expected) in [(-2, NTPDuration.milliseconds(250)), (-4, .milliseconds(100)), (0, .seconds(1))] {
            let polling = PollSettings(limits: minpoll...0)
            var harness = Harness([SourceSpecification(host: "ntp.test", polling: polling)])
            _ = harness.core.start()
            #expect(World.timer(.deadline(SourceID(0)), in: harness.poll(SourceID(0))) == expected)
        }
    }

    @Test func anInterleavedAnswerCompletesThePreviousExchange() throws {
        var harness = Harness([Self.server])
        _ = harness.core.start()
        let id = SourceID(0)
        var server = TestServer()
        _ = harness.exchange(id, with: &server)
        harness.now = harness.now + .seconds(1)
        let second = harness.exchange(id, with: &server)
        let request = try NTPPacket(parsing: World.sends(second).first?.bytes ?? [])
        // The second request asks for interleaved mode: its origin is the server's T2 of the first.
        #expect(request.header.originTimestamp != .zero)
        #expect(harness.core.sourceStatuses(at: harness.now).first?.interleavedAnswers == 1)
        #expect(World.timer(.poll(id), in: second) != nil)
        // That answer measured the first exchange, already measured in basic mode: the filter
        // does not get it twice. The next one measures the second exchange and is used.
        func fedTheDiscipline(_ actions: [ClientAction]) -> Bool {
            actions.contains { if case .setSynchronized = $0 { true } else { false } }
        }
        #expect(!fedTheDiscipline(second))
        harness.now = harness.now + .seconds(1)
        let third = harness.exchange(id, with: &server)
        #expect(harness.core.sourceStatuses(at: harness.now).first?.interleavedAnswers == 2)
        #expect(fedTheDiscipline(third))
    }

    @Test func aSlewEndsByItselfWhenItsTimeIsUp() throws {
        var harness = Harness([Self.server])
        _ = harness.core.start()
        let id = SourceID(0)
        var server = TestServer(offset: .milliseconds(500))
        let first = harness.exchange(id, with: &server)
        for step in World.steps(first) { server.offset = server.offset - step }
        // Now 50 µs off: slewed, not stepped.
        server.offset = server.offset + .microseconds(50)
        harness.now = harness.now + .seconds(1)
        let slewed = harness.exchange(id, with: &server)
        #expect(World.steps(slewed).isEmpty)
        let frequencies = slewed.compactMap { if case .steer(.setFrequency(let value)) = $0 { value } else { nil } }
        let slewing = try #require(frequencies.last)
        let duration = try #require(World.timer(.slewEnd, in: slewed))
        // Still in the start-up burst: within two of its 1 s intervals.
        #expect(duration == .seconds(2))
        let ended = harness.core.timerFired(.slewEnd, at: harness.now + duration)
        guard case .steer(.setFrequency(let after))? = ended.first, ended.count == 1 else {
            Issue.record("no frequency set at the slew's end: \(ended)")
            return
        }
        // About 50 µs over the slew time came off the frequency (the filter's estimate stays).
        #expect(abs((slewing - after) - 50e-6 / duration.seconds) < 20e-6 / duration.seconds)
        #expect(harness.core.timerFired(.slewEnd, at: harness.now + duration).isEmpty)
    }

    @Test func ntsRunsKeyExchangeThenSendsAuthenticatedRequestsAndANakStartsOver() throws {
        let specification = SourceSpecification(host: "nts.test", port: 123, mode: .nts, keyExchangePort: 4460, caFile: "/etc/ca.pem")
        var harness = Harness([specification])
        _ = harness.core.start()
        let id = SourceID(0)
        let polled = harness.core.timerFired(.poll(id), at: harness.now)
        #expect(polled == [.runKeyExchange(id, host: "nts.test", port: 4460, caFile: "/etc/ca.pem", certificateTime: .deferredUntilAgreement), .setTimer(.deadline(id), after: .seconds(15))])

        let keyset = World.keyset(3)
        let done = harness.core.keyExchangeCompleted(id, association: try World.ntsAssociation(keyset: keyset), ntpHost: "192.0.2.1", ntpPort: nil, at: harness.now)
        #expect(World.logs(done, .info).first?.contains("NTS-KE done: NTP at 192.0.2.1:123") == true)
        #expect(done.contains(.resolve(id, host: "192.0.2.1", port: 123)))
        let sent = try #require(World.sends(harness.core.resolved(id, addresses: [World.address], at: harness.now)).first)
        #expect(sent.bytes.count > 48)  // the NTS extension fields

        var server = TestServer(offset: .milliseconds(500), keyset: keyset)
        harness.core.transmitted(id, at: harness.now)
        let answerBytes = server.answer(sent.bytes, at: harness.now)
        let answer = try #require(answerBytes)
        let measured = harness.core.received(answer, from: id, at: harness.now + .microseconds(200))
        #expect(World.steps(measured).count == 1)
        #expect(harness.core.sourceStatuses(at: harness.now).first?.cookies == 8)

        // The server lost its keys: a NAK, and the next poll runs NTS-KE again.
        var forgetful = TestServer(keyset: World.keyset(77))
        let next = try #require(World.sends(harness.poll(id)).first)
        harness.core.transmitted(id, at: harness.now)
        let nakBytes = forgetful.answer(next.bytes, at: harness.now)
        let nak = try #require(nakBytes)
        let naked = harness.core.received(nak, from: id, at: harness.now)
        #expect(World.logs(naked, .info) == ["source nts.test:4460: NTS NAK, running NTS-KE again"])
        #expect(harness.core.timerFired(.poll(id), at: harness.now).first == .runKeyExchange(id, host: "nts.test", port: 4460, caFile: "/etc/ca.pem", certificateTime: .againstLocalClock))
        let failed = harness.core.keyExchangeFailed(id, reason: "NTS-KE: connection refused", at: harness.now)
        // Only the first of a run of failures is logged; status always has the latest.
        #expect(World.logs(failed, .warning).isEmpty)
        #expect(harness.core.sourceStatuses(at: harness.now).first?.lastError == "NTS-KE: connection refused")
        _ = harness.core.timerFired(.poll(id), at: harness.now)
        let hung = harness.core.timerFired(.deadline(id), at: harness.now)
        #expect(harness.core.sourceStatuses(at: harness.now).first?.lastError?.contains("did not complete") == true)
        #expect(World.timer(.poll(id), in: hung) != nil)
        // A late completion after the deadline is not taken.
        #expect(harness.core.keyExchangeCompleted(id, association: try World.ntsAssociation(keyset: keyset), ntpHost: "x", ntpPort: nil, at: harness.now).isEmpty)
    }

    @Test func poolsAreFilledFromTheirNameAndUnreachableMembersReplaced() throws {
        var harness = Harness([SourceSpecification(host: "pool.test", port: 123, mode: .pool, poolCount: 2)])
        _ = harness.core.start()
        let check = harness.core.timerFired(.poolMaintenance, at: harness.now)
        #expect(check == [.resolvePool(0, host: "pool.test", port: 123), .setTimer(.poolMaintenance, after: .seconds(8))])
        // While that lookup is out, another check does not ask again.
        #expect(harness.core.timerFired(.poolMaintenance, at: harness.now) == [.setTimer(.poolMaintenance, after: .seconds(8))])

        let members = [World.address, World.address, World.otherAddress, ResolvedAddress(ipv4: 192, 0, 2, 3, port: 123)]
        let filled = harness.core.poolResolved(0, addresses: members)
        #expect(filled.filter { if case .setTimer(.poll, .zero) = $0 { true } else { false } }.count == 2)
        #expect(World.logs(filled, .info) == ["pool pool.test: using 192.0.2.1:123", "pool pool.test: using 192.0.2.2:123"])
        // A member's address is known: its poll goes straight out.
        #expect(World.sends(harness.core.timerFired(.poll(SourceID(0)), at: harness.now)).first?.address == World.address)
        _ = harness.core.timerFired(.deadline(SourceID(0)), at: harness.now)
        for _ in 1..<NTPClientCore.unreachablePollLimit {
            _ = harness.core.timerFired(.poll(SourceID(0)), at: harness.now)
            _ = harness.core.timerFired(.deadline(SourceID(0)), at: harness.now)
        }
        let replaced = harness.core.timerFired(.poolMaintenance, at: harness.now)
        #expect(replaced.contains(.forget(SourceID(0))))
        #expect(replaced.contains(.cancelTimer(.poll(SourceID(0)))))
        #expect(replaced.contains(.cancelTimer(.deadline(SourceID(0)))))
        #expect(World.logs(replaced, .notice) == ["source 192.0.2.1:123 replaced: unreachable for 6 polls"])
        #expect(replaced.contains(.resolvePool(0, host: "pool.test", port: 123)))
        // The retired address is taken last: the fresh one comes first.
        let refilled = harness.core.poolResolved(0, addresses: members)
        #expect(World.logs(refilled, .info) == ["pool pool.test: using 192.0.2.3:123"])
        #expect(harness.core.poolResolutionFailed(0, reason: "no such name") == [.log(.warning, "pool pool.test: no such name")])
    }

    @Test func theDisciplineIsHeardAndAFalsetickerNamed() throws {
        var harness = Harness([Self.server, SourceSpecification(host: "b.test"), SourceSpecification(host: "c.test")])
        _ = harness.core.start()
        let addresses = [World.address, World.otherAddress, ResolvedAddress(ipv4: 192, 0, 2, 3, port: 123)]
        var servers = [TestServer(), TestServer(), TestServer(offset: .seconds(3))]
        var all: [ClientAction] = []
        for round in 0..<12 {
            for index in 0..<3 {
                let id = SourceID(index)
                var actions = harness.core.timerFired(.poll(id), at: harness.now)
                if round == 0 { actions += harness.core.resolved(id, addresses: [addresses[index]], at: harness.now) }
                guard let request = World.sends(actions).first?.bytes else { continue }
                harness.core.transmitted(id, at: harness.now)
                guard let answer = servers[index].answer(request, at: harness.now + .microseconds(100)) else { continue }
                let received = harness.core.received(answer, from: id, at: harness.now + .microseconds(200))
                all += received
                // The client's clock moved: every server is now that much less ahead of it.
                for step in World.steps(received) {
                    for other in servers.indices { servers[other].offset = servers[other].offset - step }
                }
                harness.now = harness.now + .seconds(1)
            }
        }
        #expect(all.contains(.observed(.synchronized)))
        #expect(all.contains { if case .observed(.falsetickers(let ids)) = $0 { ids == [SourceID(2)] } else { false } })
        #expect(World.logs(all, .warning).contains("source c.test:123 is a falseticker: it disagrees with the majority"))
        #expect(World.logs(all, .notice).contains { $0.hasPrefix("selected source") })
        #expect(harness.core.sourceStatuses(at: harness.now).last?.falseticker == true)
    }
}
