import CPendulumShim
import Glibc
import PendulumBoundedTime
import PendulumTime
import Testing

@Suite struct ClockBoundsTests {
    let published = ClockBounds(
        asOfRealtimeNanoseconds: 1_800_000_000_000_000_000, asOfMonotonicNanoseconds: 5_000_000_000,
        clockOffsetNanoseconds: 2_000, clockRate: 10e-6, boundNanoseconds: 50_000, maximumDriftPPB: 1_000,
        status: .synchronized, voidAfterMonotonicNanoseconds: 15_000_000_000
    )

    /// Two seconds later: the overlay is 2 µs + 10 ppm × 2 s = 22 µs ahead of CLOCK_REALTIME, and
    /// the bound has grown by 1 ppm × 2 s = 2 µs.
    @Test func theIntervalFollowsTheClockAndGrowsWithTime() throws {
        let instant = try published.interval(realtimeNanoseconds: 1_800_000_002_000_000_000, monotonicNanoseconds: 7_000_000_000)
        #expect(instant.clock == UnixTime(seconds: 1_800_000_002, nanoseconds: 22_000))
        #expect(instant.boundNanoseconds == 52_000)
        #expect(instant.earliest == UnixTime(seconds: 1_800_000_001, nanoseconds: 999_970_000))
        #expect(instant.latest == UnixTime(seconds: 1_800_000_002, nanoseconds: 74_000))
        #expect(instant.synchronized)
    }

    @Test func staleUnpublishedAndImpossibleValuesAreRefused() {
        #expect(throws: BoundedTimeError.stale) {
            try published.interval(realtimeNanoseconds: 1_800_000_011_000_000_000, monotonicNanoseconds: 16_000_000_000)
        }
        var unknown = published
        unknown.status = .unknown
        #expect(throws: BoundedTimeError.notPublished) {
            try unknown.interval(realtimeNanoseconds: 1_800_000_002_000_000_000, monotonicNanoseconds: 7_000_000_000)
        }
        #expect(throws: BoundedTimeError.self) {
            try published.interval(realtimeNanoseconds: .min, monotonicNanoseconds: 7_000_000_000)
        }
        #expect(throws: BoundedTimeError.self) {
            try published.interval(realtimeNanoseconds: 0, monotonicNanoseconds: 1_000)
        }
        var segment = published.segment
        segment.magic = 0x1234
        #expect(throws: BoundedTimeError.notABoundsSegment) { try ClockBounds(segment: segment) }
        segment = published.segment
        segment.version = 2
        #expect(throws: BoundedTimeError.unsupportedVersion(2)) { try ClockBounds(segment: segment) }
        segment = published.segment
        segment.clock_rate = .nan
        #expect(throws: BoundedTimeError.self) { try ClockBounds(segment: segment) }
        segment = published.segment
        segment.bound_ns = -1
        #expect(throws: BoundedTimeError.self) { try ClockBounds(segment: segment) }
    }
}

@Suite struct BoundsSegmentTests {
    func temporaryDirectory() throws -> String {
        var template = Array("/tmp/pendulum-bounds-XXXXXX".utf8CString)
        let made: String? = template.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress, let result = mkdtemp(base) else { return nil }
            return String(cString: result)
        }
        return try #require(made)
    }

    func removeAll(_ directory: String, _ names: [String]) {
        for name in names { unlink("\(directory)/\(name)") }
        rmdir(directory)
    }

    @Test func whatTheWriterPublishesAReaderOfTheFileSees() throws {
        let directory = try temporaryDirectory()
        defer { removeAll(directory, ["bounds"]) }
        let path = "\(directory)/bounds"
        let writer = try BoundsSegment.create(at: path)
        let reader = try BoundsSegment.open(at: path)
        #expect(throws: BoundedTimeError.notPublished) { try reader.read() }
        let values = ClockBounds(
            asOfRealtimeNanoseconds: 1, asOfMonotonicNanoseconds: 2, clockOffsetNanoseconds: -3, clockRate: -4e-6,
            boundNanoseconds: 5, maximumDriftPPB: 6, status: .freeRunning, voidAfterMonotonicNanoseconds: 7)
        writer.publish(values)
        #expect(try reader.read() == values)
        var info = stat()
        #expect(stat(path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o644)
        #expect(info.st_size == Int(PENDULUM_BOUNDS_SIZE))
        // Read-only mappings cannot publish.
        reader.publish(ClockBounds(asOfRealtimeNanoseconds: 9, asOfMonotonicNanoseconds: 9, boundNanoseconds: 9, maximumDriftPPB: 9, status: .synchronized, voidAfterMonotonicNanoseconds: 9))
        #expect(try reader.read() == values)
    }

    /// A root daemon must not write through a link planted at its path, nor hang on a FIFO.
    @Test func aPlantedLinkOrFIFOIsRefused() throws {
        let directory = try temporaryDirectory()
        defer { removeAll(directory, ["target", "link", "fifo"]) }
        let target = "\(directory)/target"
        let fd = open(target, O_CREAT | O_WRONLY, 0o600)
        close(fd)
        #expect(symlink(target, "\(directory)/link") == 0)
        #expect(throws: BoundedTimeError.self) { try BoundsSegment.create(at: "\(directory)/link") }
        var info = stat()
        #expect(stat(target, &info) == 0 && info.st_size == 0 && info.st_mode & 0o777 == 0o600)
        #expect(mkfifo("\(directory)/fifo", 0o600) == 0)
        #expect(throws: BoundedTimeError.self) { try BoundsSegment.create(at: "\(directory)/fifo") }
        #expect(throws: BoundedTimeError.self) { try BoundsSegment.open(at: "\(directory)/fifo") }
        #expect(throws: BoundedTimeError.self) { try BoundsSegment.open(at: "\(directory)/missing") }
    }

    /// The seqlock: a reader never sees half of one update and half of the next.
    @Test func readersNeverSeeATornUpdate() async throws {
        let directory = try temporaryDirectory()
        defer { removeAll(directory, ["bounds"]) }
        let writer = try BoundsSegment.create(at: "\(directory)/bounds")
        let reader = try BoundsSegment.open(at: "\(directory)/bounds")
        func values(_ n: Int64) -> ClockBounds {
            ClockBounds(
                asOfRealtimeNanoseconds: n, asOfMonotonicNanoseconds: n, clockOffsetNanoseconds: n, clockRate: Double(n) * 1e-15,
                boundNanoseconds: n, maximumDriftPPB: UInt32(truncatingIfNeeded: n), status: .synchronized, voidAfterMonotonicNanoseconds: n)
        }
        writer.publish(values(0))
        let writing = Task.detached {
            for n in Int64(1)...200_000 { writer.publish(values(n)) }
        }
        var torn = 0
        var consistent = 0
        for _ in 0..<200_000 {
            do {
                let seen = try reader.read()
                if seen != values(seen.asOfRealtimeNanoseconds) { torn += 1 }
                consistent += 1
            } catch .inconsistent {
                // A writer publishing back to back can starve a reader: it says so, never tears.
            }
        }
        await writing.value
        #expect(torn == 0)
        #expect(consistent > 0)
        #expect(try reader.read() == values(200_000))
    }
}
