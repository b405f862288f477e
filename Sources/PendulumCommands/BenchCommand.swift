import ArgumentParser

/// `pendulum bench …`: throughput measurements of the protocol cores, no network.
@available(macOS 13, *)
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the throughput of protocol cores (no network).",
        subcommands: [BenchAEADCommand.self, BenchNTSKECommand.self]
    )
}
