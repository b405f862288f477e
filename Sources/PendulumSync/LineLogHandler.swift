import Glibc
import Logging

/// swift-log's output for the daemons: one line per event on standard error, as journald and
/// `docker logs` expect, e.g. `pendulum-ntpd: notice: clock stepped by 0.25 s`. The program
/// name stays first so existing log scrapers and tests keep matching; the level follows so
/// an operator can grep for warnings. Metadata is appended as key=value.
package struct LineLogHandler: LogHandler {
    package var logLevel: Logger.Level
    package var metadata: Logger.Metadata = [:]
    private let program: String

    package init(program: String, level: Logger.Level) {
        self.program = program
        logLevel = level
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let suffix = merged.isEmpty ? "" : " " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        Self.write("\(program): \(event.level): \(event.message)\(suffix)")
    }

    /// One line on standard error in one write(2): lines from several threads never interleave.
    package static func write(_ text: String) {
        var line = text + "\n"
        line.withUTF8 { _ = Glibc.write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }
}
