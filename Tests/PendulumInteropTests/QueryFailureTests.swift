import Foundation
import PendulumIO
import Testing

/// How `pendulum query` behaves when there is no good answer: one line on stderr, exit 1,
/// within its timeout; hostile replies are never accepted.
@Suite struct QueryFailureTests {
    func runQuery(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String, seconds: Double) {
        let start = Date()
        let result = try ChildProcess.run(TestPaths.pendulum, ["query"] + arguments, timeout: 20)
        return (result.status, result.stdout, result.stderr, Date().timeIntervalSince(start))
    }

    func expectOneLineFailure(_ result: (status: Int32, stdout: String, stderr: String, seconds: Double), containing text: String) {
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr: \(result.stderr)")
        #expect(result.stderr.contains(text), "stderr: \(result.stderr)")
    }

    @Test func closedPortFailsAtOnce() throws {
        let result = try runQuery(["--timeout", "3", "--port", "\(freeUDPPort())", "127.0.0.1"])
        expectOneLineFailure(result, containing: "connection refused")
    }

    @Test func silentServerFailsWithinTheTimeout() throws {
        // Bound but never answering: the query must give up by itself.
        let silent = try TimestampedUDPSocket(family: .ipv4)
        try silent.bind(to: #require(SocketAddress(ip: "127.0.0.1", port: 0)))
        let port = try silent.localAddress().port
        let result = try runQuery(["--timeout", "2", "--port", "\(port)", "127.0.0.1"])
        expectOneLineFailure(result, containing: "no reply from 127.0.0.1:\(port) within 2 s")
        #expect(result.seconds < 2 + 3, "took \(result.seconds) s")
    }

    @Test func unresolvableNameFails() throws {
        expectOneLineFailure(try runQuery(["--timeout", "2", "no-such-host.invalid"]), containing: "cannot resolve no-such-host.invalid")
    }

    @Test func hostileRepliesAreNeverAccepted() throws {
        let responder = try ScriptedResponder(replies: [.truncated, .oversized, .wrongMode, .wrongOrigin, .garbage], lifetime: 6)
        let result = try runQuery(["--timeout", "2", "--samples", "3", "--port", "\(responder.address.port)", "127.0.0.1"])
        expectOneLineFailure(result, containing: "no reply from")
        responder.waitUntilFinished()
    }

    @Test func theRealReplyIsFoundAmongHostileOnes() throws {
        let responder = try ScriptedResponder(replies: [.truncated, .wrongOrigin, .oversized, .wrongMode, .garbage, .valid(stratum: 7)], lifetime: 6)
        let result = try runQuery(["--json", "--timeout", "3", "--samples", "2", "--interval", "0.1", "--port", "\(responder.address.port)", "127.0.0.1"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["stratum"] as? Int == 7)
        // The wrong-origin reply claimed the server was an hour ahead; it must not show.
        #expect(abs(object["offset_seconds"] as? Double ?? 99) < 0.1)
        #expect(object["ignored_replies"] as? Int == 10)
        responder.waitUntilFinished()
    }

    @Test func kissOfDeathIsReportedWithItsCode() throws {
        let responder = try ScriptedResponder(replies: [.kissOfDeath("RATE")], lifetime: 4)
        let result = try runQuery(["--timeout", "2", "--port", "\(responder.address.port)", "127.0.0.1"])
        expectOneLineFailure(result, containing: "kiss-o'-death RATE")
        responder.waitUntilFinished()
    }

    @Test func unsynchronisedServerIsReported() throws {
        let responder = try ScriptedResponder(ip: "::1", replies: [.unsynchronized], lifetime: 4)
        let result = try runQuery(["--timeout", "2", "--port", "\(responder.address.port)", "::1"])
        expectOneLineFailure(result, containing: "not synchronised (leap indicator 3, stratum 16)")
        responder.waitUntilFinished()
    }
}
