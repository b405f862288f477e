import Foundation
import Testing

/// The manual pages render with groff without a single warning, and the configuration page
/// documents every section the parser accepts.
@Suite struct ManualPageTests {
    static let directory = String(#filePath.split(separator: "/Tests/").first ?? "") + "/docs/man"

    @Test(arguments: ["pendulum.1", "pendulum-ntpd.8", "pendulum-ntpd.toml.5", "pendulum-ptpd.8"])
    func rendersWithoutWarnings(page: String) throws {
        let groff = try TestPaths.requireProgram("groff", package: "groff-base")
        let result = try ChildProcess.run(groff, ["-man", "-ww", "-z", "\(Self.directory)/\(page)"], timeout: 20)
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty, "\(page): \(result.stderr)")
    }

    @Test func configurationPageNamesEverySection() throws {
        let text = try String(contentsOfFile: "\(Self.directory)/pendulum-ntpd.toml.5", encoding: .utf8)
        for section in ["[[source]]", "[source-defaults]", "[clock]", "[synchronization]", "[[server]]", "[[nts-ke-server]]", "[keyset]", "[observability]"] {
            #expect(text.contains(".B \(section)"), "missing \(section)")
        }
        for key in ["ke-port", "ca-file", "count", "initial-offset-seconds", "initial-frequency-ppm", "minimum-agreeing-sources",
                    "step-threshold-seconds", "panic-threshold-seconds", "observation-path", "metrics-listen", "log-level", "local-stratum", "minpoll", "maxpoll", "iburst", "burst", "drift-file", "leap-seconds-file", "bounds-path", "certificate-time-check"] {
            #expect(text.contains(key), "missing \(key)")
        }
    }
}
