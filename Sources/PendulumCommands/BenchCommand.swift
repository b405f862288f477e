import ArgumentParser

/// `pendulum bench …`: measurements run side by side with the incumbents.
@available(macOS 13, *)
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks: server throughput on loopback, protocol cores, an impaired path for accuracy runs.",
        subcommands: [BenchServeCommand.self, BenchAEADCommand.self, BenchNTSKECommand.self, BenchNTSKEFloodCommand.self, BenchReflectCommand.self, BenchProxyCommand.self]
    )
}
