import ArgumentParser
import Foundation
import PendulumNTP
import PendulumSync

/// `pendulum status`: what the running daemon is doing, from its observation socket.
@available(macOS 13, *)
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the daemon's synchronisation state and sources."
    )

    @Option(help: "The daemon's observation socket (default: /run/pendulum/observe, or for a user other than root without it, the socket pendulum-ntpd makes for that user without --config: /tmp/pendulum-UID/observe).")
    var socket: String?

    /// Root's socket when it is there (a user may read a system daemon's status), else the
    /// one a daemon this user started without --config made. A socket this user may not even
    /// look at (the package's /run/pendulum is for the group pendulum) is still the system
    /// daemon's: the error then says "no permission", not "is it running?".
    static func defaultSocket() -> String {
        if access(ObservationServer.systemPath, F_OK) == 0 || errno == EACCES { return ObservationServer.systemPath }
        return ObservationServer.defaultPath(forUser: getuid())
    }

    @Flag(help: "Print the daemon's JSON document as it is.")
    var json = false

    func run() throws {
        let socket = self.socket ?? Self.defaultSocket()
        let data: Data
        do {
            data = try ObservationServer.read(from: socket)
        } catch {
            fail(Self.unreadable(socket, error))
        }
        if json {
            print(String(decoding: data, as: UTF8.self), terminator: "")
            return
        }
        guard let snapshot = try? JSONDecoder().decode(ObservationSnapshot.self, from: data) else {
            fail("daemon status at \(socket) is not a status document")
        }
        print(Self.render(snapshot))
    }

    /// Why the status could not be read, with what to do about it.
    static func unreadable(_ socket: String, _ error: any Error) -> String {
        let daemonHint = "is pendulum-ntpd or pendulum-ptpd running with observation-path = \"\(socket)\"?"
        guard case ObservationServer.Failure.system(_, let code) = error else { return "cannot read daemon status: \(error) (\(daemonHint))" }
        switch code {
        case EACCES, EPERM:
            // The socket's group, or where its directory keeps this user out, the directory's.
            let owner = [(socket, "the socket's"), (ObservationServer.directory(of: socket), "its directory's")].lazy.compactMap { path, whose -> (String, String)? in
                var status = stat()
                guard stat(path, &status) == 0, let group = getgrgid(status.st_gid) else { return nil }
                return (String(cString: group.pointee.gr_name), whose)
            }.first
            return "no permission to read the daemon status at \(socket): run as root\(owner.map { " or as a member of the group \"\($0.0)\" (\($0.1))" } ?? "")"
        case ENOENT:
            return "no daemon status at \(socket): \(daemonHint)"
        case ECONNREFUSED:
            return "nothing answers at \(socket) (a socket left by a daemon that stopped): \(daemonHint)"
        default:
            return "cannot read daemon status: \(error) (\(daemonHint))"
        }
    }

    /// A table in the spirit of `chronyc tracking` + `chronyc sources`.
    static func render(_ snapshot: ObservationSnapshot) -> String {
        let system = snapshot.system
        var lines = [
            "synchronised     \(system.synchronized ? "yes" : "no"), stratum \(system.stratum), reference \(ReferenceID(hex: system.referenceID)?.displayText(stratum: system.stratum) ?? system.referenceID)",
            "offset           \(format(system.offsetSeconds)) ± \(format(system.uncertaintySeconds, signed: false))",
            "frequency        \(String(format: "%+.3f", system.frequencyPPM)) ppm",
            "root delay       \(format(system.rootDelaySeconds, signed: false)), root dispersion \(format(system.rootDispersionSeconds, signed: false))",
        ]
        var clockLine = "clock            \(snapshot.clock.kind)"
        if let offset = snapshot.clock.offsetFromSystemSeconds { clockLine += ", \(format(offset)) from the system clock" }
        lines.append(clockLine)
        if let ptp = snapshot.ptp {
            // Stratum, root delay and dispersion are NTP's; PTP's own figures follow.
            return (["synchronised     \(system.synchronized ? "yes" : "no")", lines[2], clockLine, ""] + renderPTP(ptp))
                .joined(separator: "\n")
        }
        lines.append("")
        lines.append("  " + pad("source", 28) + pad("mode", 7) + pad("reach", 7) + pad("poll", 6) + pad("offset", 15) + pad("delay", 13) + "state")
        for source in snapshot.sources {
            let marker = source.selected ? "*" : (source.falseticker ? "x" : (source.reachable ? "+" : "?"))
            var state = source.falseticker ? "falseticker" : (source.selected ? "selected" : (source.reachable ? "candidate" : "unreachable"))
            if let cookies = source.cookies { state += ", \(cookies) cookies" }
            if let error = source.lastError, !source.reachable { state += " (\(error))" }
            lines.append(
                "\(marker) " + pad(source.name, 28) + pad(source.mode, 7) + pad(String(source.reach, radix: 8), 7)
                    + pad(source.poll.map { "\($0)" } ?? "-", 6) + pad(source.offsetSeconds.map { format($0) } ?? "-", 15)
                    + pad(source.delaySeconds.map { format($0, signed: false) } ?? "-", 13) + state
            )
        }
        lines += counterBlock("serving", "requests", snapshot.servers, alwaysShown: ["responded"])
        lines += counterBlock("nts-ke", "connections", snapshot.keyExchangeServers ?? [], alwaysShown: ["accepted", "answered"])
        return lines.joined(separator: "\n")
    }

    /// One line per listener: the `alwaysShown` counters first, then the others that are not zero.
    private static func counterBlock(_ title: String, _ unit: String, _ servers: [ObservationSnapshot.Server], alwaysShown: [String]) -> [String] {
        guard !servers.isEmpty else { return [] }
        return ["", "  " + pad(title, 28) + unit] + servers.map { server in
            let first = alwaysShown.map { "\($0) \(server.counters[$0, default: 0])" }
            let others = server.counters.filter { !alwaysShown.contains($0.key) && $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            return "  " + pad(server.listen, 28) + (first + others).joined(separator: ", ")
        }
    }

    /// pendulum-ptpd's block, in the spirit of `pmc 'GET CURRENT_DATA_SET'` + `PORT_DATA_SET`.
    private static func renderPTP(_ ptp: ObservationSnapshot.PTP) -> [String] {
        var lines = [
            "ptp clock        \(ptp.clockIdentity), domain \(ptp.domain)",
            "grandmaster      \(ptp.grandmasterIdentity), parent port \(ptp.parentPortIdentity), steps removed \(ptp.stepsRemoved)",
            "offset from master \(ptp.offsetFromMasterSeconds.map { format($0) } ?? "-"), mean path delay "
                + (ptp.meanPathDelaySeconds.map { format($0, signed: false) } ?? "-") + ", \(ptp.offsetSamples) samples",
        ]
        let counters = ptp.counters
        lines.append("messages         \(counters.received) received, \(counters.malformed) malformed, \(counters.wrongDomain) wrong domain, "
            + "\(counters.ownMessages) own, \(counters.impossibleTimestamps) impossible timestamps, \(counters.ignored) ignored")
        lines.append("")
        lines.append("  " + pad("port", 6) + pad("interface", 16) + pad("network", 10) + pad("delay", 7) + pad("timestamps", 12) + "state")
        for port in ptp.ports {
            let marker = port.state == "SLAVE" ? "*" : (port.state == "MASTER" ? "=" : " ")
            lines.append("\(marker) " + pad(String(port.portNumber), 6) + pad(port.interface, 16) + pad(port.network, 10)
                + pad(port.delayMechanism.uppercased(), 7) + pad(port.timestamping, 12) + port.state)
        }
        return lines
    }

    private static func format(_ seconds: Double, signed: Bool = true) -> String {
        let magnitude = abs(seconds)
        let (value, unit) = magnitude >= 1 ? (seconds, "s") : magnitude >= 1e-3 ? (seconds * 1e3, "ms") : (seconds * 1e6, "µs")
        return String(format: signed ? "%+.3f" : "%.3f", value) + " " + unit
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}

/// The status table renderer, for tests.
package enum StatusTableProbe {
    package static func render(_ snapshot: ObservationSnapshot) -> String { StatusCommand.render(snapshot) }
}
