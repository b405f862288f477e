import ArgumentParser
import PendulumFiles

/// The `pendulum` tool: one-shot queries and everything an operator does by hand.
@available(macOS 13, *)
package struct PendulumCommand: AsyncParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "pendulum",
        abstract: "Secure, precise time for Linux: query servers, inspect and simulate.",
        version: PendulumRelease.versionLine(program: "pendulum"),
        subcommands: PendulumCommand.subcommandList
    )

    package init() {}
}
