// libFuzzer target: the pendulum-ntpd configuration parser must be total on any bytes (a typed
// ConfigurationError, never a trap), and whatever it accepts must be self-consistent. (Its
// first run found TOMLKit aborting on a lone "[" line: hence PendulumTOML.)
import PendulumDaemonConfig
import PendulumNTPServer

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDaemonConfigParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        let configuration = try DaemonConfigurationParser.parse(text, file: "fuzz.toml")
        precondition(configuration.effectiveMinimumAgreeingSources >= 1)
        for source in configuration.sources {
            precondition(!source.host.isEmpty, "accepted an empty host")
            precondition((1...16).contains(source.count), "accepted pool count \(source.count)")
        }
        if let stratum = configuration.synchronization.localStratum { precondition((1...15).contains(stratum)) }
        for server in configuration.servers {
            if let smear = server.leapSmear { precondition(LeapSmear.windowRange.contains(smear.windowSeconds), "accepted window \(smear.windowSeconds)") }
        }
        _ = configuration.warnings
    } catch {
        precondition(!error.description.isEmpty)
    }
    return 0
}
