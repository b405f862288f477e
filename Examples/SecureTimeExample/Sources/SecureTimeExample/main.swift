// Authenticated time in a Swift program, two ways:
//   SecureTimeExample [--ca-file PEM] [--follow SECONDS] HOST:NTS-KE-PORT...
// First one reading from all the servers at once (`SecureTime.now`), then, with --follow, a
// clock of the program's own that follows them for SECONDS (`DisciplinedClock`).
import Pendulum

#if canImport(Glibc)
import Glibc
#endif

func usage() -> Never {
    print("usage: SecureTimeExample [--ca-file PEM] [--follow SECONDS] HOST:NTS-KE-PORT...")
    exit(2)
}

var caFile: String?
var followSeconds = 0
var servers: [TimeServer] = []
var arguments = CommandLine.arguments.dropFirst()
if arguments.isEmpty { usage() }
while let argument = arguments.popFirst() {
    switch argument {
    case "--ca-file":
        caFile = arguments.popFirst()
    case "--follow":
        guard let seconds = arguments.popFirst().flatMap({ Int($0) }), seconds > 0 else { usage() }
        followSeconds = seconds
    default:
        let parts = argument.split(separator: ":")
        guard parts.count == 2, let port = UInt16(parts[1]) else { usage() }
        servers.append(.nts(String(parts[0]), keyExchangePort: port, caFile: caFile))
    }
}

do {
    let reading = try await SecureTime.now(from: servers)
    print("time: \(reading.time) ± \(reading.errorBound) (\(reading.authenticated ? "authenticated" : "NOT authenticated"))")
    print("offset from this machine's clock: \(reading.offsetFromSystemClock)")
    for server in reading.agreeing { print("agreeing: \(server.server) offset \(server.offset)") }
    for server in reading.falsetickers { print("outvoted: \(server.server) offset \(server.offset)") }
    for failure in reading.failures { print("failed: \(failure)") }
} catch {
    print("no time (\(error.code)): \(error)")
    exit(1)
}

guard followSeconds > 0 else { exit(0) }
do {
    let clock = try DisciplinedClock(servers: servers, options: DisciplinedClockOptions(pollLog2: 0...4))
    let first = try await clock.waitUntilSynchronized(timeout: .seconds(30))
    print("disciplined: synchronised, \(first.offsetFromSystemClock) ± \(first.errorBound ?? .zero)")
    try await Task.sleep(for: .seconds(followSeconds))
    let later = clock.now()
    print("disciplined after \(followSeconds) s: \(later.synchronized ? "synchronised" : "not synchronised"), \(later.offsetFromSystemClock) ± \(later.errorBound ?? .zero)")
    for source in clock.sources where source.falseticker { print("disciplined outvoted: \(source.server)") }
    clock.stop()
} catch let error as DisciplinedClockError {
    print("no disciplined time (\(error.code)): \(error)")
    exit(1)
}
