import Foundation
import Testing

/// `pendulum demo` as the README's first command runs it: offline, from the `pendulum` binary
/// alone, converging and ending with its summary.
extension NTPDaemonInteropTests {
    @Suite(.serialized) struct DemoCommandTests {
        @Test func demoConvergesAndSummarises() async throws {
            let result = try await offCooperativePool {
                try ChildProcess.run(TestPaths.pendulum, ["demo", "--hold", "5", "--duration", "45"], timeout: 90)
            }
            #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
            #expect(result.stdout.contains("Summary: within 1 ms of true time after"), "\(result.stdout)")
            #expect(result.stdout.contains("NTS, selected"), "\(result.stdout)")
            #expect(result.stdout.contains("cookies held"), "\(result.stdout)")
        }
    }
}
