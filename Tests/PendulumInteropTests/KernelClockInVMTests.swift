import Foundation
import Testing

/// pendulum-ntpd steering a real kernel clock, CLOCK_REALTIME, in a qemu guest
/// (scripts/vm/run.sh): tests never touch this machine's clock, so this is the only place the
/// system-clock path (clock_adjtime, the tick, STA_UNSYNC, maxerror) runs for real. The
/// reference is a chronyd -x on this machine's loopback, inside a namespace the harness makes;
/// the guest's offsets are measured by an NTP client independent of the daemon.
@Suite(.serialized) struct KernelClockInVMTests {
    @Test func stepsHoldsReportsLossAndRestartsFromTheDriftFile() throws {
        let run = try VMScenario.run("system-clock-step")
        let log1 = try run.text("ntpd-run1.log")
        let log2 = try run.text("ntpd-run2.log")

        // A kernel PLL left on by "an earlier daemon" is switched off before steering.
        let atStart = try run.json("state-at-start.json")
        #expect((atStart["status_bits"] as? [String])?.contains("PLL") == true, "the scenario did not leave the PLL on")
        #expect(log1.contains("the kernel PLL was on"), "\(log1)")

        // Run 1: one step, then held within 1 ms of the host.
        let run1 = try run.samples("samples-run1.jsonl")
        #expect(log1.components(separatedBy: "clock stepped by").count == 2, "expected exactly one step:\n\(log1)")
        let firstClose = try #require(run1.firstIndex { abs($0.offset ?? 1) < 0.001 }, "never within 1 ms:\n\(log1)")
        let held = run1[firstClose...]
        let worst = held.compactMap(\.offset).map(abs).max() ?? 1
        #expect(worst < 0.001, "after reaching 1 ms the offset went to \(worst) s")
        #expect(held.allSatisfy { !$0.statusBits.contains("UNSYNC") && !$0.statusBits.contains("PLL") })
        #expect(held.allSatisfy { $0.maximumErrorMicroseconds < 100_000 && $0.estimatedErrorMicroseconds < 10_000 },
                "maxerror/esterror not kept current: \(held.map { ($0.maximumErrorMicroseconds, $0.estimatedErrorMicroseconds) })")
        // The frequency settles: the last 20 s of run 1 agree with the end of run 2 (the same
        // oscillator) and with the drift file.
        let settled1 = mean(run1.suffix(40).map(\.frequencyPPM))
        let run2 = try run.samples("samples-run2.jsonl")
        let settled2 = mean(run2.suffix(20).map(\.frequencyPPM))
        #expect(abs(settled1 - settled2) < 10, "frequency \(settled1) ppm at the end of run 1, \(settled2) ppm at the end of run 2")
        #expect(abs(settled1) < 60, "frequency \(settled1) ppm: the guest drifts a few ppm against the host")

        // Lost: with the network down the kernel hears it is unsynchronised again.
        let lost = try run.samples("samples-lost.jsonl")
        let unsynchronized = try #require(lost.first { $0.statusBits.contains("UNSYNC") }, "STA_UNSYNC never came back with every source gone")
        #expect(unsynchronized.monotonic - (lost.first?.monotonic ?? 0) < 40)

        // The drift file: written at stop, read at restart, no new step, held from the start.
        let drift = try run.text("drift-after-run1").split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Double($0) }
        #expect(drift.count == 2 && abs(drift[0] - settled1) < 10, "drift file \(drift) against \(settled1) ppm")
        #expect(log2.contains("from the drift file"), "\(log2)")
        #expect(!log2.contains("clock stepped"), "\(log2)")
        let worst2 = run2.compactMap(\.offset).map(abs).max() ?? 1
        #expect(worst2 < 0.001, "after the restart the offset went to \(worst2) s")
        run.report([
            "first within 1 ms after (s)": run1[firstClose].monotonic - run1[0].monotonic,
            "worst offset run 1 (µs)": worst * 1e6, "worst offset run 2 (µs)": worst2 * 1e6,
            "frequency run 1 (ppm)": settled1, "frequency run 2 (ppm)": settled2,
            "STA_UNSYNC after network loss (s)": unsynchronized.monotonic - (lost.first?.monotonic ?? 0),
        ])
    }

    @Test func slewsFiftyMillisecondsWithoutSteppingOrGoingBackwards() throws {
        let run = try VMScenario.run("system-clock-slew")
        let log = try run.text("ntpd.log")
        let samples = try run.samples("samples.jsonl")
        #expect(!log.contains("clock stepped"), "\(log)")
        #expect(samples.allSatisfy { $0.wentBackNanoseconds == 0 }, "CLOCK_REALTIME went backwards")
        let initial = try #require(samples.first?.offset)
        #expect(abs(initial + 0.050) < 0.005, "the scenario should start 50 ms ahead, started \(initial) s")
        // Beyond ADJ_FREQUENCY's 500 ppm: the tick length carried the slew.
        #expect(samples.contains { $0.tickMicroseconds != 10_000 }, "the tick never changed: slewed at 500 ppm at most")
        let within = try #require(samples.firstIndex { abs($0.offset ?? 1) < 0.001 }, "never within 1 ms: \(samples.map(\.offset))")
        let seconds = samples[within].monotonic - samples[0].monotonic
        #expect(seconds < 20, "50 ms took \(seconds) s to slew to within 1 ms")
        let final = samples.suffix(6).compactMap(\.offset).map(abs).max() ?? 1
        #expect(final < 0.001)
        run.report(["slewed to within 1 ms after (s)": seconds, "final offset (µs)": final * 1e6])
    }

    /// The guest scenarios set and steer CLOCK_REALTIME: run here, on the host, they must refuse
    /// before doing anything, and so must the helper that moves the clock.
    @Test func steeringScenariosRefuseToRunOnTheHost() throws {
        let before = try VMScenario.hostClockState()
        let results = try TestPaths.temporaryDirectory("vm-refusal")
        for scenario in ["system-clock-step", "system-clock-slew"] {
            let script = VMScenario.repository.appendingPathComponent("scripts/vm/guest/\(scenario).sh").path
            let child = ChildProcess("/usr/bin/env", ["PENDULUM_REPO=\(VMScenario.repository.path)", "RESULTS=\(results.path)", "/bin/bash", script])
            try child.start()
            #expect(child.wait(timeout: 30) == 3)
            #expect(child.standardError.contains("refusing to run"), "\(child.standardError)")
        }
        let helper = ChildProcess("/usr/bin/python3", [VMScenario.repository.appendingPathComponent("scripts/vm/kernel_clock.py").path, "set-offset", "1"])
        try helper.start()
        #expect(helper.wait(timeout: 30) != 0)
        #expect(helper.standardError.contains("refusing"), "\(helper.standardError)")
        #expect(try VMScenario.hostClockState() == before)
    }

    private func mean(_ values: [Double]) -> Double { values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count) }
}

/// One run of scripts/vm/run.sh and what it left in its results folder.
struct VMScenario {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let name: String
    let results: URL

    struct Sample {
        var monotonic: Double
        var offset: Double?
        var frequencyPPM: Double
        var tickMicroseconds: Int
        var statusBits: [String]
        var maximumErrorMicroseconds: Int
        var estimatedErrorMicroseconds: Int
        var wentBackNanoseconds: Int
    }

    /// Boots the guest and runs `name`; fails (never skips) when qemu, the kernel or chronyd
    /// cannot be had. The host's clock must be exactly as before.
    static func run(_ name: String) throws -> VMScenario {
        _ = try TestPaths.requireProgram("chronyd", package: "chrony")
        let results = try TestPaths.temporaryDirectory("vm-\(name)")
        let child = ChildProcess("/usr/bin/env", [
            "PENDULUM_VM_BUILD=\(TestPaths.productsDirectory.path)", "PENDULUM_VM_TIME_LIMIT=400",
            "/bin/bash", repository.appendingPathComponent("scripts/vm/run.sh").path, name, results.path,
        ])
        try child.start()
        let status = child.wait(timeout: 480)
        let scenario = VMScenario(name: name, results: results)
        let guestLog = (try? scenario.text("guest.log")) ?? ""
        guard status == 0 else {
            throw VMScenarioFailure(description: "scripts/vm/run.sh \(name) exited \(status)\n\(child.standardError)\nguest:\n\(guestLog)")
        }
        let before = try scenario.json("host-clock-before.json")
        let after = try scenario.json("host-clock-after.json")
        for key in ["frequency_ppm", "tick_us", "status"] {
            #expect("\(before[key] ?? "")" == "\(after[key] ?? "")", "the host's \(key) changed during the scenario")
        }
        return scenario
    }

    static func hostClockState() throws -> String {
        let child = ChildProcess("/usr/bin/python3", [repository.appendingPathComponent("scripts/vm/kernel_clock.py").path, "state"])
        try child.start()
        child.wait(timeout: 30)
        // maxerror grows by itself; frequency, tick and status are what steering would change.
        let state = try JSONSerialization.jsonObject(with: Data(child.standardOutput.utf8)) as? [String: Any] ?? [:]
        return ["frequency_ppm", "tick_us", "status"].map { "\($0)=\(state[$0] ?? "")" }.joined(separator: " ")
    }

    func text(_ file: String) throws -> String {
        try String(contentsOf: results.appendingPathComponent(file), encoding: .utf8)
    }

    func json(_ file: String) throws -> [String: Any] {
        let data = try Data(contentsOf: results.appendingPathComponent(file))
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }

    func samples(_ file: String) throws -> [Sample] {
        try text(file).split(separator: "\n").map { line in
            let record = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
            return Sample(
                monotonic: record["monotonic"] as? Double ?? 0, offset: record["offset"] as? Double,
                frequencyPPM: record["frequency_ppm"] as? Double ?? .nan, tickMicroseconds: record["tick_us"] as? Int ?? 0,
                statusBits: record["status_bits"] as? [String] ?? [], maximumErrorMicroseconds: record["maxerror_us"] as? Int ?? Int.max,
                estimatedErrorMicroseconds: record["esterror_us"] as? Int ?? Int.max, wentBackNanoseconds: record["went_back_ns"] as? Int ?? -1
            )
        }
    }

    /// The measured figures, for the log (docs/kernel-clock.md quotes them).
    func report(_ figures: [String: Double]) {
        for (name, value) in figures.sorted(by: { $0.key < $1.key }) {
            print("vm \(self.name): \(name) = \((value * 10).rounded() / 10)")
        }
        print("vm \(self.name): results in \(results.path)")
    }
}

struct VMScenarioFailure: Error, CustomStringConvertible {
    var description: String
}
