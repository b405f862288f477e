import PendulumCommands

@main
struct PendulumMain {
    static func main() async {
        await PendulumCommand.main()
    }
}
