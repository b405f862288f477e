import PendulumNTP
import PendulumTime

/// What the server says about its own clock in every answer: the system variables of RFC 5905
/// §9 that a response carries. The daemon updates it as its discipline learns; the decision
/// core only reads it.
public struct ServerClockState: Sendable, Hashable {
    public var leap: LeapIndicator
    public var stratum: UInt8
    public var referenceID: ReferenceID
    public var referenceTimestamp: NTPTimestamp
    public var rootDelay: NTPShort
    public var rootDispersion: NTPShort
    /// log₂ seconds.
    public var precision: Int8
    public var isSynchronized: Bool

    public init(leap: LeapIndicator, stratum: UInt8, referenceID: ReferenceID, referenceTimestamp: NTPTimestamp,
                rootDelay: NTPShort, rootDispersion: NTPShort, precision: Int8, isSynchronized: Bool) {
        self.leap = leap
        self.stratum = stratum
        self.referenceID = referenceID
        self.referenceTimestamp = referenceTimestamp
        self.rootDelay = rootDelay
        self.rootDispersion = rootDispersion
        self.precision = precision
        self.isSynchronized = isSynchronized
    }

    /// A server that has no time to offer yet: clients see LI 3 and stratum 16 and will not
    /// select it, but still get an answer (so they can tell "unsynchronised" from "down").
    public static func unsynchronized(precision: Int8 = -20) -> ServerClockState {
        ServerClockState(leap: .unsynchronized, stratum: 16, referenceID: ReferenceID(rawValue: 0), referenceTimestamp: .zero,
                         rootDelay: .zero, rootDispersion: .zero, precision: precision, isSynchronized: false)
    }

    /// A server that trusts its own clock, as `local-stratum` configures: reference id "LOCL",
    /// reference time = the moment of the answer.
    public static func local(stratum: UInt8, precision: Int8 = -20) -> ServerClockState {
        ServerClockState(leap: .none, stratum: min(max(stratum, 1), 15), referenceID: ReferenceID(ascii: "LOCL"),
                         referenceTimestamp: .zero, rootDelay: .zero, rootDispersion: .zero, precision: precision, isSynchronized: true)
    }

    /// The header fields as they go on the wire: an unsynchronised server always says LI 3 and
    /// stratum 16 whatever else the state holds.
    var wireLeap: LeapIndicator { isSynchronized ? leap : .unsynchronized }
    var wireStratum: UInt8 { isSynchronized ? min(max(stratum, 1), 15) : 16 }
}
