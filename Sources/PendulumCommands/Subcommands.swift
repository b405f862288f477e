import ArgumentParser

@available(macOS 13, *)
extension PendulumCommand {
    /// Each subcommand lives in its own file; add it here, one per line.
    static let subcommandList: [any ParsableCommand.Type] = [
        QueryCommand.self,
        SimulateCommand.self,
        StatusCommand.self,
        NowCommand.self,
        BenchCommand.self,
        ValidateCommand.self,
        DemoCommand.self,
        NTPDaemonCommand.self,
    ]
}
