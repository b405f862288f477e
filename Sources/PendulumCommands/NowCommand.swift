import ArgumentParser
import Foundation
import PendulumBoundedTime
import PendulumTime

/// `pendulum now --bounds`: the time with the daemon's guarantee, from the bounds segment.
@available(macOS 13, *)
struct NowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "now",
        abstract: "Print the current time, with --bounds the earliest and latest it can be (from the bounds-path of pendulum-ntpd or pendulum-ptpd)."
    )

    @Flag(help: "Read the daemon's error bound and print the interval true time lies in.")
    var bounds = false

    @Option(help: "The daemon's bounds segment ([observability] bounds-path).")
    var path: String = BoundedClock.defaultPath

    @Flag(help: "Print JSON: earliest_unix_seconds, latest_unix_seconds, synchronized, bound_seconds, clock_unix_seconds (the disciplined clock) and system_unix_seconds (CLOCK_REALTIME at the same instant).")
    var json = false

    func run() throws {
        guard bounds else {
            let now = Date().timeIntervalSince1970
            print(json ? "{\"unix_seconds\":\(String(format: "%.9f", now))}" : String(format: "%.9f", now))
            return
        }
        let instant: BoundedInstant
        do {
            instant = try BoundedClock(path: path).now()
        } catch {
            fail("no bounded time: \(error)")
        }
        if json {
            print(Self.json(instant))
        } else {
            print("clock     \(Self.decimal(instant.clock)) (\(Self.iso8601(instant.clock)))")
            print("earliest  \(Self.decimal(instant.earliest))")
            print("latest    \(Self.decimal(instant.latest))")
            print("bound     ±\(String(format: "%.6f", Double(instant.boundNanoseconds) / 1e9)) s, \(instant.synchronized ? "synchronised" : "free running (sources lost)")")
        }
    }

    static func json(_ instant: BoundedInstant) -> String {
        // Written by hand so the seconds keep all nine decimals (JSONEncoder would print a Double).
        "{\"system_unix_seconds\":\(decimal(instant.system)),\"clock_unix_seconds\":\(decimal(instant.clock)),\"earliest_unix_seconds\":\(decimal(instant.earliest)),"
            + "\"latest_unix_seconds\":\(decimal(instant.latest)),\"bound_seconds\":\(String(format: "%.9f", Double(instant.boundNanoseconds) / 1e9)),"
            + "\"synchronized\":\(instant.synchronized)}"
    }

    /// Seconds.nanoseconds, exactly (negative times keep the sign on the whole value).
    static func decimal(_ time: UnixTime) -> String {
        if time.seconds < 0 && time.nanoseconds > 0 {
            let whole = -(time.seconds + 1)
            return "-\(whole).\(String(format: "%09d", 1_000_000_000 - Int(time.nanoseconds)))"
        }
        return "\(time.seconds).\(String(format: "%09d", Int(time.nanoseconds)))"
    }

    static func iso8601(_ time: UnixTime) -> String {
        guard let date = CivilDate(unixSeconds: time.seconds) else { return "out of range" }
        let secondOfDay = Int(((time.seconds % 86_400) + 86_400) % 86_400)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02dZ", Int(date.year), date.month, date.day, secondOfDay / 3600, secondOfDay / 60 % 60, secondOfDay % 60)
    }
}
