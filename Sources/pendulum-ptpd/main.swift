import Foundation
import PendulumFiles
import PendulumPTPDaemon

// pendulum-ptpd --config FILE.toml
func usage() -> Never {
    FileHandle.standardError.write(Data("usage: pendulum-ptpd --config FILE.toml | --version\n".utf8))
    exit(2)
}

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments == ["--version"] {
    print(PendulumRelease.versionLine(program: "pendulum-ptpd"))
    exit(0)
}
guard arguments.count == 2, arguments[0] == "--config" || arguments[0] == "-c" else { usage() }
let text: String
do {
    // Not Foundation's reader: a FIFO at the path would hang it, deaf to SIGTERM.
    text = String(decoding: try RegularFile.read(path: arguments[1], limit: 1 << 20), as: UTF8.self)
} catch {
    FileHandle.standardError.write(Data("pendulum-ptpd: cannot read \(arguments[1]): \(error)\n".utf8))
    exit(1)
}
do {
    let configuration = try PTPDaemonConfiguration(toml: text)
    let daemon = try PTPDaemon(configuration: configuration) { line in
        // Unbuffered, so a supervisor or test sees each line as it happens.
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
    daemon.run()
} catch {
    FileHandle.standardError.write(Data("pendulum-ptpd: \(error)\n".utf8))
    exit(1)
}
