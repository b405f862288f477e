/// A simulated NTP server: its own error against true time, paths to it, and when it is down.
public struct SimulatedServer: Sendable {
    public var up: DelayModel
    public var down: DelayModel
    /// Server time minus true time at t = 0, s (non-zero: a falseticker).
    public var timeError: Double
    /// Growth of that error, s/s.
    public var timeErrorDrift: Double
    /// True-time intervals during which the server does not answer.
    public var outages: [Range<Double>]
    public var stratum: UInt8
    /// Leap indicator the server announces from `leapFrom` (true time) on.
    public var leap: Int
    public var leapFrom: Double
    public var processingTime: Double
    /// From this true time on, both directions take `extra` seconds longer (a new route).
    public var pathStep: (at: Double, extra: Double)?
    /// The first request to the server takes this much longer on its way (s): a cold path
    /// (address resolution on the last hop, a NAT binding or a relay opened for it). One
    /// late request makes the first exchange, the one a start-up step is taken from, look
    /// asymmetric.
    public var firstRequestExtraDelay: Double = 0

    public init(
        up: DelayModel, down: DelayModel, timeError: Double = 0, timeErrorDrift: Double = 0,
        outages: [Range<Double>] = [], stratum: UInt8 = 1, leap: Int = 0, leapFrom: Double = 0,
        processingTime: Double = 10e-6
    ) {
        self.up = up
        self.down = down
        self.timeError = timeError
        self.timeErrorDrift = timeErrorDrift
        self.outages = outages
        self.stratum = stratum
        self.leap = leap
        self.leapFrom = leapFrom
        self.processingTime = processingTime
    }

    func error(at time: Double) -> Double { timeError + timeErrorDrift * time }

    func isDown(at time: Double) -> Bool { outages.contains { $0.contains(time) } }

    /// The delay a path step adds to a packet sent at `time`.
    func extraDelay(at time: Double) -> Double {
        guard let pathStep, time >= pathStep.at else { return 0 }
        return pathStep.extra
    }
}
