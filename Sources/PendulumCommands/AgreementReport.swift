import Foundation
import Pendulum
import PendulumTime

/// What `pendulum query` prints for several servers: the time they agree on, its bound, and
/// each server's part (agreeing, outvoted, failed).
struct AgreementReport: Encodable {
    var time: String
    var timeUnixSeconds: Double
    var offsetSeconds: Double
    var errorBoundSeconds: Double
    var authenticated: Bool
    var servers: [Server]
    var failures: [Failure]

    struct Server: Encodable {
        /// As asked: "nts://HOST:KE-PORT" or "ntp://HOST:PORT".
        var server: String
        var address: String
        var port: UInt16
        var role: String
        var offsetSeconds: Double
        var delaySeconds: Double
        var stratum: UInt8
        var nts: Bool

        enum CodingKeys: String, CodingKey {
            case server, address, port, role, stratum, nts
            case offsetSeconds = "offset_seconds"
            case delaySeconds = "delay_seconds"
        }
    }

    struct Failure: Encodable {
        var server: String
        var code: String
        var message: String
    }

    enum CodingKeys: String, CodingKey {
        case time, authenticated, servers, failures
        case timeUnixSeconds = "time_unix_seconds"
        case offsetSeconds = "offset_seconds"
        case errorBoundSeconds = "error_bound_seconds"
    }

    init(_ reading: SecureTimeReading) {
        time = reading.time.description
        timeUnixSeconds = Double(reading.time.seconds) + Double(reading.time.nanoseconds) / 1e9
        offsetSeconds = reading.offsetFromSystemClock.seconds
        errorBoundSeconds = reading.errorBound.seconds
        authenticated = reading.authenticated
        func server(_ measurement: ServerMeasurement, _ role: String) -> Server {
            Server(
                server: measurement.server.description, address: measurement.address, port: measurement.port, role: role,
                offsetSeconds: measurement.offset.seconds, delaySeconds: measurement.delay.seconds,
                stratum: measurement.header.stratum, nts: measurement.authenticated
            )
        }
        servers = reading.agreeing.map { server($0, "agreeing") } + reading.falsetickers.map { server($0, "falseticker") }
        failures = reading.failures.map { Failure(server: $0.server.description, code: $0.failure.code, message: $0.failure.description) }
    }

    func json() -> String { sortedJSON() }

    func text() -> String {
        var lines = [
            "time             \(time) ± \(String(format: "%.9f", errorBoundSeconds)) s",
            "offset           \(String(format: "%+.9f", offsetSeconds)) s from this machine's clock\(authenticated ? ", authenticated (NTS)" : ", NOT authenticated")",
        ]
        for server in servers {
            let role = server.role == "agreeing" ? "agrees  " : "OUTVOTED"
            lines.append("\(role)         \(server.server) (\(server.address) port \(server.port)): offset \(String(format: "%+.9f", server.offsetSeconds)) s, delay \(String(format: "%.9f", server.delaySeconds)) s, stratum \(server.stratum)\(server.nts ? ", NTS" : "")")
        }
        for failure in failures {
            lines.append("failed           \(failure.server): \(failure.message)")
        }
        return lines.joined(separator: "\n")
    }
}
