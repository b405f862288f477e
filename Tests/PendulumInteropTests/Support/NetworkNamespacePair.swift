import Foundation

/// Two network namespaces joined by a veth pair, for PTP tests that need multicast between two
/// stacks without touching the host's interfaces. Needs root (CI runs these tests as root).
/// `remove()` deletes both namespaces (and with them the veth pair); call it in a `defer`.
final class NetworkNamespacePair: @unchecked Sendable {
    let names: (String, String)
    let interfaces = ("pdveth0", "pdveth1")
    let addresses = ("10.231.0.1", "10.231.0.2")
    private let ip: String

    init() throws {
        ip = try TestPaths.requireProgram("ip", package: "iproute2")
        let suffix = "\(getpid())-\(UInt16.random(in: 0...UInt16.max))"
        names = ("pendulum-a-\(suffix)", "pendulum-b-\(suffix)")
        do {
            try run(["netns", "add", names.0])
            try run(["netns", "add", names.1])
            try run(["-n", names.0, "link", "add", interfaces.0, "type", "veth", "peer", "name", interfaces.1, "netns", names.1])
            try run(["-n", names.0, "addr", "add", addresses.0 + "/24", "dev", interfaces.0])
            try run(["-n", names.1, "addr", "add", addresses.1 + "/24", "dev", interfaces.1])
            for (namespace, interface) in [(names.0, interfaces.0), (names.1, interfaces.1)] {
                try run(["-n", namespace, "link", "set", "lo", "up"])
                try run(["-n", namespace, "link", "set", interface, "up"])
            }
            // IPv6 link-local addresses must finish duplicate address detection before use.
            try waitForLinkLocalAddresses()
        } catch {
            remove()
            throw error
        }
    }

    private func run(_ arguments: [String]) throws {
        let result = try ChildProcess.run(ip, arguments, timeout: 10)
        guard result.status == 0 else {
            throw NamespaceError(description: "ip \(arguments.joined(separator: " ")): \(result.stderr)")
        }
    }

    private func waitForLinkLocalAddresses() throws {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            let tentative = try [(names.0, interfaces.0), (names.1, interfaces.1)].contains { namespace, interface in
                let result = try ChildProcess.run(ip, ["-n", namespace, "-6", "addr", "show", "dev", interface], timeout: 5)
                return result.stdout.contains("tentative") || !result.stdout.contains("fe80")
            }
            if !tentative { return }
            usleep(200_000)
        }
    }

    /// Deletes namespaces an earlier, killed test process left behind (its pid is gone), so a
    /// crashed run cannot make later ones fail or pile up veth pairs. Others' live ones stay.
    static func removeStale() {
        guard let ip = try? TestPaths.requireProgram("ip", package: "iproute2"),
            let list = try? ChildProcess.run(ip, ["netns", "list"], timeout: 10)
        else { return }
        for line in list.stdout.split(separator: "\n") {
            guard let name = line.split(separator: " ").first.map(String.init),
                name.hasPrefix("pendulum-a-") || name.hasPrefix("pendulum-b-"),
                let pid = name.dropFirst("pendulum-a-".count).split(separator: "-").first.flatMap({ Int32($0) }),
                pid != getpid(), kill(pid, 0) != 0 && errno == ESRCH
            else { continue }
            _ = try? ChildProcess.run(ip, ["netns", "del", name], timeout: 10)
        }
    }

    /// A program run inside one of the namespaces.
    func process(inFirst first: Bool, _ executable: String, _ arguments: [String]) -> ChildProcess {
        ChildProcess(ip, ["netns", "exec", first ? names.0 : names.1, executable] + arguments)
    }

    func remove() {
        for name in [names.0, names.1] {
            _ = try? ChildProcess.run(ip, ["netns", "del", name], timeout: 10)
        }
    }
}

struct NamespaceError: Error, CustomStringConvertible {
    var description: String
}
