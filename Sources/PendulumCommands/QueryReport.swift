import Foundation
import Pendulum
import PendulumNTP
import PendulumNTS
import PendulumTime

/// What `pendulum query` prints: the JSON contract of DESIGN.md plus a readable table.
struct QueryReport: Encodable {
    var server: String
    var address: String
    var port: UInt16
    var offsetSeconds: Double
    var delaySeconds: Double
    var offsetSpreadSeconds: Double
    var samples: Int
    var ignoredReplies: Int
    var stratum: UInt8
    var leap: UInt8
    var referenceID: String
    var rootDelaySeconds: Double
    var rootDispersionSeconds: Double
    var precision: Int8
    var poll: Int8
    var version: UInt8
    var nts: Bool
    /// With NTS: the negotiated AEAD algorithm id and the cookies held after the query.
    var aead: UInt16?
    var cookies: Int?
    var timestamps: Timestamps

    struct Timestamps: Encodable {
        var transmit: String
        var receive: String
    }

    enum CodingKeys: String, CodingKey {
        case server, address, port, stratum, leap, precision, poll, version, nts, aead, cookies, samples, timestamps
        case offsetSeconds = "offset_seconds"
        case delaySeconds = "delay_seconds"
        case offsetSpreadSeconds = "offset_spread_seconds"
        case ignoredReplies = "ignored_replies"
        case referenceID = "reference_id"
        case rootDelaySeconds = "root_delay_seconds"
        case rootDispersionSeconds = "root_dispersion_seconds"
    }

    init(host: String, measurement: ServerMeasurement) {
        let header = measurement.header
        server = host
        address = measurement.address
        port = measurement.port
        offsetSeconds = measurement.offset.seconds
        delaySeconds = measurement.delay.seconds
        offsetSpreadSeconds = measurement.offsetSpread.seconds
        samples = measurement.samples
        ignoredReplies = measurement.ignoredReplies
        stratum = header.stratum
        leap = header.leap.rawValue
        referenceID = header.referenceID.hex
        rootDelaySeconds = header.rootDelay.seconds
        rootDispersionSeconds = header.rootDispersion.seconds
        precision = header.precision
        poll = header.poll
        version = header.version
        nts = measurement.authenticated
        aead = measurement.aead
        cookies = measurement.cookies
        timestamps = Timestamps(transmit: measurement.transmitTimestampSource, receive: measurement.receiveTimestampSource)
    }

    func json() -> String { sortedJSON() }

    func text() -> String {
        let leapText = ["none", "insert second", "delete second", "unsynchronised"][Int(leap)]
        return """
            server           \(server) (\(address) port \(port))
            offset           \(seconds(offsetSeconds, signed: true))  (spread \(seconds(offsetSpreadSeconds)) over \(samples) sample\(samples == 1 ? "" : "s"))
            delay            \(seconds(delaySeconds))
            stratum          \(stratum), reference \(ReferenceID(hex: referenceID)?.displayText(stratum: stratum) ?? referenceID)
            leap             \(leapText)
            root delay       \(seconds(rootDelaySeconds)), root dispersion \(seconds(rootDispersionSeconds))
            precision        2^\(precision) s
            timestamps       transmit \(timestamps.transmit), receive \(timestamps.receive)
            """ + (nts ? "\nnts              authenticated, AEAD \(aead ?? 0), \(cookies ?? 0) cookies held" : "")
    }

    private func seconds(_ value: Double, signed: Bool = false) -> String {
        String(format: signed ? "%+.9f s" : "%.9f s", value)
    }
}

