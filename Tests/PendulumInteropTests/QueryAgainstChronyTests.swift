import Foundation
import Testing

/// `pendulum query` against a real chronyd on loopback, run as a user would run it.
@Suite(.serialized) struct QueryAgainstChronyTests {
    @Test(arguments: ["127.0.0.1", "::1"])
    func jsonReportMatchesChronysConfiguration(address: String) throws {
        let chrony = try ChronyServer(stratum: 3)
        defer { chrony.stop() }
        let result = try ChildProcess.run(TestPaths.pendulum, ["query", "--json", address, "--port", "\(chrony.port)"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let offset = try #require(object["offset_seconds"] as? Double)
        let delay = try #require(object["delay_seconds"] as? Double)
        #expect(abs(offset) < 0.001, "offset \(offset)")
        #expect(delay >= 0 && delay < 0.01, "delay \(delay)")
        #expect(object["stratum"] as? Int == 3)
        // chronyd's `local` reference clock identifies itself as 127.127.1.1.
        #expect(object["reference_id"] as? String == "7F7F0101")
        #expect(object["leap"] as? Int == 0)
        #expect(object["nts"] as? Bool == false)
        #expect(object["address"] as? String == address)
        #expect(object["server"] as? String == address)
        #expect(object["samples"] as? Int == 4)
        for key in ["root_delay_seconds", "root_dispersion_seconds", "precision"] {
            #expect(object[key] != nil, "missing \(key)")
        }
    }

    @Test func readableReportNamesTheServerAndStratum() throws {
        let chrony = try ChronyServer(stratum: 5)
        defer { chrony.stop() }
        let result = try ChildProcess.run(TestPaths.pendulum, ["query", "localhost", "--port", "\(chrony.port)", "--samples", "2"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("stratum          5, reference 7F7F0101 (127.127.1.1)"), "\(result.stdout)")
        #expect(result.stdout.contains("offset"))
    }
}
