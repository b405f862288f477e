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
        // The step and "synchronised" are two clock_adjtime calls: a sample can fall between
        // them, so holding is judged from the first synchronised sample, at most 1 s later.
        let firstSynchronised = try #require(run1[firstClose...].firstIndex { !$0.statusBits.contains("UNSYNC") }, "STA_UNSYNC never cleared")
        #expect(run1[firstSynchronised].monotonic - run1[firstClose].monotonic <= 1.0, "STA_UNSYNC cleared only \(run1[firstSynchronised].monotonic - run1[firstClose].monotonic) s after the step")
        let held = run1[firstSynchronised...]
        let worst = held.worstProvenOffset
        #expect(worst < 0.001, "after reaching 1 ms the offset went to at least \(worst) s")
        #expect(held.sharpShare >= 0.75, "too few sharp measurements to judge: \(held.sharpShare)")
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
        let worst2 = run2.worstProvenOffset
        #expect(worst2 < 0.001, "after the restart the offset went to at least \(worst2) s")
        #expect(run2.sharpShare >= 0.75, "too few sharp measurements to judge: \(run2.sharpShare)")
        run.report([
            "first within 1 ms after (s)": run1[firstClose].monotonic - run1[0].monotonic,
            "worst offset run 1, measured (µs)": held.worstMeasuredOffset * 1e6, "worst offset run 1, proven (µs)": worst * 1e6,
            "worst offset run 2, measured (µs)": run2.worstMeasuredOffset * 1e6, "worst offset run 2, proven (µs)": worst2 * 1e6,
            "sharp measurements run 1 (%)": held.sharpShare * 100,
            "frequency run 1 (ppm)": settled1, "frequency run 2 (ppm)": settled2,
            "STA_UNSYNC after network loss (s)": unsynchronized.monotonic - (lost.first?.monotonic ?? 0),
        ])
    }

    @Test func slewsFiftyMillisecondsWithoutSteppingOrGoingBackwards() throws {
        let run = try VMScenario.run("system-clock-slew")
        let log = try run.text("ntpd.log")
        let samples = try run.samples("samples.jsonl")
        #expect(!log.contains("clock stepped"), "\(log)")
        // The tick and frequency corrections move CLOCK_BOOTTIME too: the watch, which allows
        // the system clock no rate of its own against it, must not take the slew for a move.
        #expect(!log.contains("was moved"), "\(log)")
        #expect(samples.allSatisfy { $0.wentBackNanoseconds == 0 }, "CLOCK_REALTIME went backwards")
        let before = try run.samples("before.jsonl")
        let initial = try #require(before.compactMap(\.offset).last, "no measurement before the daemon started")
        #expect(abs(initial + 0.050) < 0.005, "the scenario should start 50 ms ahead, started \(initial) s")
        // Beyond ADJ_FREQUENCY's 500 ppm: the tick length carried the slew.
        #expect(samples.contains { $0.tickMicroseconds != 10_000 }, "the tick never changed: slewed at 500 ppm at most")
        let within = try #require(samples.firstIndex { abs($0.offset ?? 1) < 0.001 }, "never within 1 ms: \(samples.map(\.offset))")
        let seconds = samples[within].monotonic - (before.last?.monotonic ?? samples[0].monotonic)
        #expect(seconds < 20, "50 ms took \(seconds) s to slew to within 1 ms")
        let final = samples.suffix(6).worstProvenOffset
        #expect(final < 0.001)
        run.report(["slewed to within 1 ms after (s)": seconds, "final offset, proven (µs)": final * 1e6,
                    "final offset, measured (µs)": samples.suffix(6).worstMeasuredOffset * 1e6])
    }

    /// Someone else moves the clock: 5 s is stepped back, 1500 s (past the panic threshold)
    /// is refused and left alone.
    @Test func aClockMovedBySomeoneElseIsSteppedBackOnlyWithinThePanicThreshold() throws {
        let run = try VMScenario.run("clock-moved")
        let log = try run.text("ntpd.log")
        let moves = log.split(separator: "\n").filter { $0.contains("the local clock was moved by") }
        #expect(moves.count == 2, "\(log)")
        let synchronised = try run.samples("samples-synchronised.jsonl")
        #expect(synchronised.suffix(10).worstProvenOffset < 0.001, "not synchronised before the move:\n\(log)")

        let moved5 = try run.samples("samples-moved-5s.jsonl")
        let back = try #require(moved5.firstIndex { abs($0.offset ?? 1) < 0.001 }, "never back within 1 ms after the 5 s move:\n\(log)")
        let backAfter = moved5[back].monotonic - moved5[0].monotonic
        #expect(backAfter < 5, "took \(backAfter) s")
        #expect(log.contains("clock stepped by -5.0") || log.contains("clock stepped by -4.99"), "\(log)")

        let moved1500 = try run.samples("samples-moved-1500s.jsonl")
        let offsets = moved1500.compactMap(\.offset)
        #expect(offsets.count > 20 && offsets.allSatisfy { abs($0 + 1500) < 0.1 }, "the 1500 s were not left alone: \(offsets)")
        #expect(log.contains("exceeds the panic threshold (1000.0 s): not steering"), "\(log)")
        #expect(log.components(separatedBy: "clock stepped by").count == 3, "expected the start-up step and the 5 s one only:\n\(log)")
        run.report(["back within 1 ms after the 5 s move (s)": backAfter, "offset held after the 1500 s move (s)": offsets.last ?? .nan])
    }

    /// The real leap second of 2016: servers and daemon read tzdata's leap-seconds.list.
    @Test func insertsTheLeapSecondOf2016() throws {
        let run = try VMScenario.run("leap-insert")
        let trace = try LeapTrace(run)
        // 23:59:59 seen twice, the second time after the clock went back by one second.
        #expect(trace.aroundMidnight == ["23:59:58", "23:59:59", "23:59:59", "00:00:00", "00:00:01"], "\(trace.labels)")
        #expect(trace.jumps.count == 1 && abs(trace.jumps[0] + 1) < 0.05, "jumps \(trace.jumps)")
        #expect(trace.states.starts(with: ["TIME_INS", "TIME_OOP", "TIME_WAIT"]), "kernel states \(trace.states)")
        #expect(trace.bitsBefore.contains("INS") && trace.taiBefore == 36, "before: \(trace.bitsBefore), TAI \(trace.taiBefore)")
        let atEnd = try run.json("state-at-end.json")
        #expect(atEnd["tai"] as? Int == 37)
        #expect((atEnd["status_bits"] as? [String])?.contains("INS") == false, "the announcement was not withdrawn after midnight")
        #expect(atEnd["state"] as? String == "TIME_OK")
        try expectHeldThroughTheLeap(run, announced: "insertSecond", report: trace)
        try expectSmearedThroughTheLeap(run, insertion: true)
    }

    /// A deleted second decided by the sources' majority, the minority's insertion ignored.
    @Test func deletesASecondOnTheMajoritysWordAndIgnoresTheMinority() throws {
        let run = try VMScenario.run("leap-delete")
        let trace = try LeapTrace(run)
        // 23:59:59 never shown: 23:59:58 is followed by midnight.
        #expect(trace.aroundMidnight == ["23:59:58", "00:00:00", "00:00:01"], "\(trace.labels)")
        #expect(trace.jumps.count == 1 && abs(trace.jumps[0] - 1) < 0.05, "jumps \(trace.jumps)")
        #expect(trace.states.starts(with: ["TIME_DEL", "TIME_WAIT"]), "kernel states \(trace.states)")
        #expect(trace.bitsBefore.contains("DEL") && !trace.bitsBefore.contains("INS"))
        let atEnd = try run.json("state-at-end.json")
        #expect((atEnd["status_bits"] as? [String])?.contains("DEL") == false, "the announcement was not withdrawn after midnight")
        // The minority's server inserted a second instead: two seconds off now, outvoted.
        let log = try run.text("ntpd.log")
        #expect(log.contains("source 10.0.2.2:11125 is a falseticker"), "\(log)")
        try expectHeldThroughTheLeap(run, announced: "deleteSecond", report: trace)
        try expectSmearedThroughTheLeap(run, insertion: false)
    }

    /// The daemon's smearing listener (one-minute linear window), asked by a client in the
    /// guest every 0.1 s through the kernel's leap: against CLOCK_TAI, which has no leap, the
    /// served time falls behind (insertion) or runs ahead (deletion) by exactly the share of
    /// the window elapsed — through the inserted second too, which the kernel clock reads as a
    /// second 23:59:59 — and announces no leap second.
    private func expectSmearedThroughTheLeap(_ run: VMScenario, insertion: Bool) throws {
        let trace = try SmearTrace(run)
        let direction = insertion ? 1.0 : -1.0
        var worst = 0.0
        for exchange in trace.exchanges {
            let progress = min(max((exchange.continuous - Double(trace.midnight - 30)) / (60 + direction), 0), 1)
            let expected = -direction * progress
            #expect(abs(exchange.correction - expected) < 0.002 + exchange.delay / 2,
                    "at \(exchange.continuous - Double(trace.midnight)) s from midnight: served \(exchange.correction) s from TAI − UTC, expected \(expected)")
            worst = max(worst, abs(exchange.correction - expected))
        }
        let inside = trace.exchanges.filter { abs($0.continuous - Double(trace.midnight)) < 29 }
        #expect(inside.count > 150, "only \(inside.count) exchanges inside the window")
        let inLeapSecond = trace.exchanges.filter { $0.continuous >= Double(trace.midnight) - 1 && $0.continuous < Double(trace.midnight) + 1 }
        #expect(inLeapSecond.count >= 5, "only \(inLeapSecond.count) exchanges within a second of midnight")
        #expect(trace.exchanges.allSatisfy { $0.leap == 0 }, "a smearing listener announced a leap second")
        let log = try run.text("ntpd.log")
        #expect(log.contains("leap smear: the leap second at"), "\(log)")
        run.report([
            "smear: exchanges": Double(trace.exchanges.count),
            "smear: worst distance from the exact smear (µs)": worst * 1e6,
        ])
    }

    /// Synchronised before, one step only (the first), within 1 ms again once the leap second
    /// is past, announced in the log.
    private func expectHeldThroughTheLeap(_ run: VMScenario, announced: String, report trace: LeapTrace) throws {
        let log = try run.text("ntpd.log")
        #expect(log.contains("leap second at the end of today: \(announced)"), "\(log)")
        #expect(log.components(separatedBy: "clock stepped by").count <= 2, "stepped more than once:\n\(log)")
        let before = try run.samples("samples-before.jsonl")
        let synchronised = try #require(before.firstIndex { abs($0.offset ?? 1) < 0.001 }, "never within 1 ms before the leap:\n\(log)")
        let after = try run.samples("samples-after.jsonl")
        let worstAfter = after.worstProvenOffset
        #expect(worstAfter < 0.001, "after the leap second the offset went to at least \(worstAfter) s")
        #expect(after.sharpShare >= 0.75, "too few sharp measurements to judge: \(after.sharpShare)")
        #expect(after.allSatisfy { !$0.statusBits.contains("UNSYNC") })
        run.report([
            "within 1 ms after (s)": before[synchronised].monotonic - before[0].monotonic,
            "worst offset in the 20 s after the leap, measured (µs)": after.worstMeasuredOffset * 1e6,
            "worst offset in the 20 s after the leap, proven (µs)": worstAfter * 1e6,
        ], text: "seconds \(trace.labels.joined(separator: " ")) (\(trace.glimpses) shown under 50 ms); kernel \(trace.states.joined(separator: " → "))")
    }

    /// A clock at 2001-01-01 (no RTC), NTS servers with certificates valid only today: one
    /// source alone, or two that disagree by an hour, must leave the clock alone, as must
    /// `certificate-time-check = "always"`; two of three agreeing set it, the third is outvoted,
    /// and all three are keyed again with their certificates checked against the clock.
    @Test func aClockWithNoValidTimeIsSetOnlyByAgreeingNTSSources() throws {
        let run = try VMScenario.run("no-valid-time")
        let firstLine = try run.text("samples-single.jsonl").split(separator: "\n").first.map(String.init) ?? ""
        let first = try JSONSerialization.jsonObject(with: Data(firstLine.utf8)) as? [String: Any] ?? [:]
        let startYear = (first["realtime"] as? Double).map { 1970 + $0 / 31_556_952 } ?? 0
        #expect(startYear > 2000.9 && startYear < 2001.1, "the guest should start at 2001-01-01: \(firstLine)")

        for phase in ["single", "disagreeing", "always"] {
            let log = try run.text("ntpd-\(phase).log")
            let offsets = try run.samples("samples-\(phase).jsonl").compactMap(\.offset)
            #expect(offsets.count > 10 && offsets.allSatisfy { $0 > 8e8 }, "\(phase): the clock was moved: \(offsets.suffix(3))\n\(log)")
            #expect(!log.contains("clock stepped"), "\(phase):\n\(log)")
            if phase == "always" {
                // Refused as every NTS client would, and told why in plain words.
                #expect(log.contains("the server's certificate is not yet valid: valid from 20") && log.contains("this machine's clock reads 2001-01-01")
                    && !log.contains("not at the local clock"), "\(log)")
            } else {
                #expect(log.contains("not at the local clock's 2001-01-01"), "\(phase):\n\(log)")
            }
        }

        let log = try run.text("ntpd-agreeing.log")
        let lines = log.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.contains("NTS sources 10.0.2.2:4460, 10.0.2.2:4461 agree that it is about") }, "\(log)")
        #expect(lines.filter { $0.contains("clock stepped by +8") }.count == 1, "\(log)")
        #expect(log.contains("source 10.0.2.2:4462 is a falseticker"), "\(log)")
        // After the step every source ran NTS-KE again, checked against the clock: and passed.
        let trusted = try #require(lines.firstIndex { $0.contains("clock stepped by") })
        let rekeyed = Set(lines[trusted...].compactMap { line in
            line.contains("NTS-KE done") ? line.split(separator: " ").dropFirst(3).first.map(String.init) : nil
        })
        #expect(rekeyed == ["10.0.2.2:4460:", "10.0.2.2:4461:", "10.0.2.2:4462:"], "\(log)")

        let samples = try run.samples("samples-agreeing.jsonl")
        let synchronised = try #require(samples.firstIndex { abs($0.offset ?? 1) < 0.001 }, "never within 1 ms:\n\(log)")
        #expect(samples.suffix(10).worstProvenOffset < 0.001, "\(samples.suffix(10).compactMap(\.offset))")
        #expect(samples.suffix(10).allSatisfy { !$0.statusBits.contains("UNSYNC") })
        run.report([
            "within 1 ms after (s)": samples[synchronised].monotonic - samples[0].monotonic,
            "final offset, proven (µs)": samples.suffix(10).worstProvenOffset * 1e6,
            "final offset, measured (µs)": samples.suffix(10).worstMeasuredOffset * 1e6,
            "step (s)": samples[0].offset ?? .nan,
        ])
    }

    /// The guest scenarios set and steer CLOCK_REALTIME (installed-package powers the machine
    /// off): run here, on the host, they must refuse before doing anything, and so must the
    /// helper that moves the clock.
    @Test func steeringScenariosRefuseToRunOnTheHost() throws {
        let before = try VMScenario.hostClockState()
        let results = try TestPaths.temporaryDirectory("vm-refusal")
        for scenario in ["system-clock-step", "system-clock-slew", "leap-insert", "leap-delete", "clock-moved", "no-valid-time", "installed-package"] {
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
        /// The guest's offset from the reference, from the least-delay of four exchanges.
        var offset: Double?
        /// That exchange's round trip. Through qemu's user-mode network it is usually 0.3-1 ms,
        /// but a loaded host stalls a whole burst now and then (6.5 ms seen in CI).
        var delay: Double?
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
        for key in ["frequency_ppm", "tick_us", "status", "tai"] {
            #expect("\(before[key] ?? "")" == "\(after[key] ?? "")", "the host's \(key) changed during the scenario")
        }
        return scenario
    }

    static func hostClockState() throws -> String {
        let child = ChildProcess("/usr/bin/python3", [repository.appendingPathComponent("scripts/vm/kernel_clock.py").path, "state"])
        try child.start()
        child.wait(timeout: 30)
        // maxerror grows by itself; frequency, tick, status and the TAI offset are what steering
        // (or a server announcing leap seconds) would change.
        let state = try JSONSerialization.jsonObject(with: Data(child.standardOutput.utf8)) as? [String: Any] ?? [:]
        return ["frequency_ppm", "tick_us", "status", "tai"].map { "\($0)=\(state[$0] ?? "")" }.joined(separator: " ")
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
                monotonic: record["monotonic"] as? Double ?? 0, offset: record["offset"] as? Double, delay: record["delay"] as? Double,
                frequencyPPM: record["frequency_ppm"] as? Double ?? .nan, tickMicroseconds: record["tick_us"] as? Int ?? 0,
                statusBits: record["status_bits"] as? [String] ?? [], maximumErrorMicroseconds: record["maxerror_us"] as? Int ?? Int.max,
                estimatedErrorMicroseconds: record["esterror_us"] as? Int ?? Int.max, wentBackNanoseconds: record["went_back_ns"] as? Int ?? -1
            )
        }
    }

    /// The measured figures, for the log (docs/kernel-clock.md quotes them).
    func report(_ figures: [String: Double], text: String? = nil) {
        for (name, value) in figures.sorted(by: { $0.key < $1.key }) {
            print("vm \(self.name): \(name) = \((value * 10).rounded() / 10)")
        }
        if let text { print("vm \(self.name): \(text)") }
        print("vm \(self.name): results in \(results.path)")
    }
}

extension Collection where Element == VMScenario.Sample {
    /// The largest distance from the reference that the measurements prove: a sample's true
    /// offset lies within half its round trip of the measured one, so a sample proves only
    /// |offset| - delay/2. Judging raw offsets failed CI on measurement stalls alone (-2.66 ms
    /// measured through a 6.5 ms round trip, between samples of 20-100 µs).
    var worstProvenOffset: Double {
        compactMap { sample in sample.offset.map { Swift.max(0, abs($0) - (sample.delay ?? .infinity) / 2) } }.max() ?? 1
    }

    /// The largest measured offset, for the report.
    var worstMeasuredOffset: Double { compactMap(\.offset).map(abs).max() ?? 1 }

    /// The share of samples sharp enough to judge 1 ms by (round trip at most 2 ms): without
    /// this, a measurement that had become useless would let anything pass.
    var sharpShare: Double {
        guard !isEmpty else { return 0 }
        return Double(filter { ($0.delay ?? .infinity) <= 0.002 }.count) / Double(count)
    }
}

struct VMScenarioFailure: Error, CustomStringConvertible {
    var description: String
}

/// What kernel_clock.py smear-trace got from the smearing listener around midnight.
struct SmearTrace {
    struct Exchange {
        /// The middle of the exchange on a timescale without the leap (CLOCK_TAI less the TAI
        /// offset before the leap), Unix seconds.
        var continuous: Double
        /// Served time (the middle of T2 and T3) less `continuous`, seconds.
        var correction: Double
        var delay: Double
        var leap: Int
    }

    var midnight: Int64
    var exchanges: [Exchange]

    init(_ run: VMScenario) throws {
        let lines = try run.text("smear-trace.jsonl").split(separator: "\n")
        let records = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:] }
        guard let header = records.first else { throw VMScenarioFailure(description: "smear-trace: empty") }
        if let error = header["error"] as? String { throw VMScenarioFailure(description: "smear-trace: \(error)") }
        guard let midnight = header["midnight"] as? Int, let taiOffset = header["tai_offset_ns"] as? Int else {
            throw VMScenarioFailure(description: "smear-trace: no header in \(header)")
        }
        self.midnight = Int64(midnight)
        exchanges = records.dropFirst().compactMap { record in
            guard let tai1 = record["tai1"] as? Int, let tai4 = record["tai4"] as? Int, let t2 = record["t2"] as? Int, let t3 = record["t3"] as? Int
            else { return nil }
            // Nanoseconds since 1970 fit an Int; their sums are halved before any Double.
            let continuous = tai1 / 2 + tai4 / 2 - taiOffset
            let served = t2 / 2 + t3 / 2
            return Exchange(
                continuous: Double(continuous) / 1e9, correction: Double(served - continuous) / 1e9,
                delay: Double((tai4 - tai1) - (t3 - t2)) / 1e9, leap: record["leap"] as? Int ?? -1
            )
        }
    }
}

/// What kernel_clock.py leap-trace saw around midnight.
struct LeapTrace {
    /// Each whole second as the clock showed it, in order ("23:59:59" twice: repeated).
    var labels: [String]
    /// Every jump of CLOCK_REALTIME, in seconds (negative: backwards).
    var jumps: [Double]
    /// The kernel's adjtimex states in the order they appeared.
    var states: [String]
    var bitsBefore: [String]
    var taiBefore: Int?
    /// Seconds shown for under 50 ms just before the clock jumped (the kernel's tick).
    var glimpses: Int

    /// The seconds shown from 23:59:58 to 00:00:01.
    var aroundMidnight: [String] {
        guard let first = labels.firstIndex(of: "23:59:58"), let last = labels.firstIndex(of: "00:00:01"), first <= last else { return labels }
        return Array(labels[first...last])
    }

    init(_ run: VMScenario) throws {
        let trace = try run.json("leap-trace.json")
        if let error = trace["error"] as? String { throw VMScenarioFailure(description: "leap-trace: \(error)") }
        // Linux carries out a leap second at the first tick of the second concerned, so
        // 00:00:00 (inserting) or 23:59:59 (deleting) shows for a few milliseconds before the
        // clock jumps: such a glimpse is not a second shown.
        let seconds = trace["seconds"] as? [[String: Any]] ?? []
        labels = seconds.enumerated().compactMap { index, entry in
            let first = (entry["first"] as? Double) ?? 0
            let last = (entry["last"] as? Double) ?? 0
            let nextFirst = index + 1 < seconds.count ? (seconds[index + 1]["first"] as? Double) : nil
            let jumpsAfter = nextFirst.map { $0 - last < 0 || $0 - last > 0.5 } ?? false
            return jumpsAfter && last - first < 0.05 ? nil : entry["utc"] as? String
        }
        glimpses = seconds.count - labels.count
        jumps = (trace["jumps"] as? [[String: Any]] ?? []).compactMap { jump in
            guard let from = jump["from"] as? Double, let to = jump["to"] as? Double else { return nil }
            return to - from
        }
        states = (trace["states"] as? [[String: Any]] ?? []).compactMap { $0["state"] as? String }
        let before = trace["state_before"] as? [String: Any]
        bitsBefore = before?["status_bits"] as? [String] ?? []
        taiBefore = before?["tai"] as? Int
    }
}
