import PendulumTime
import Synchronization
import Testing
@testable import PendulumIO

/// A system clock the test moves by hand.
final class VirtualSystemClock: Sendable {
    private let current: Mutex<UnixTime>
    init(_ start: UnixTime) { current = Mutex(start) }
    func read() -> UnixTime { current.withLock { $0 } }
    func advance(_ interval: NTPDuration) { current.withLock { $0 = $0 + interval } }
}

@Suite struct OverlayClockTests {
    let start = UnixTime(seconds: 1_800_000_000)

    @Test func startsWhereToldAndDriftsAtItsIntrinsicRate() {
        let system = VirtualSystemClock(start)
        let clock = OverlayClock(initialOffset: .milliseconds(250), intrinsicFrequencyError: 30e-6, systemClock: system.read)
        #expect(clock.offsetFromSystem == .milliseconds(250))
        system.advance(.seconds(100))
        // 30 ppm over 100 s is 3 ms.
        #expect(abs((clock.offsetFromSystem - .milliseconds(253)).nanoseconds) <= 1)
    }

    @Test func frequencyCorrectionCancelsTheIntrinsicError() throws {
        let system = VirtualSystemClock(start)
        let clock = OverlayClock(initialOffset: .zero, intrinsicFrequencyError: 30e-6, systemClock: system.read)
        system.advance(.seconds(10))
        try clock.setFrequency(-30e-6)
        let before = clock.offsetFromSystem
        system.advance(.seconds(1000))
        #expect(abs((clock.offsetFromSystem - before).nanoseconds) <= 1)
        #expect(abs(clock.status.frequencyPPM + 30) < 1e-9)
    }

    @Test func stepMovesTheClockAndNothingElse() throws {
        let system = VirtualSystemClock(start)
        let clock = OverlayClock(initialOffset: .milliseconds(500), systemClock: system.read)
        try clock.step(by: .milliseconds(-500))
        #expect(clock.offsetFromSystem == .zero)
        #expect(system.read() == start)
    }

    @Test func mapsKernelTimestampsOntoTheOverlay() throws {
        let system = VirtualSystemClock(start)
        let clock = OverlayClock(initialOffset: .seconds(2), intrinsicFrequencyError: 1e-3, systemClock: system.read)
        let packetTime = start + .seconds(10)
        system.advance(.seconds(20))
        // The mapping depends on when the packet was stamped, not when it is converted.
        #expect(clock.time(atSystemTime: packetTime) == packetTime + .seconds(2) + .milliseconds(10))
    }

    @Test func insertedLeapSecondRepeatsTheLastSecondOfTheDay() throws {
        let beforeMidnight = UnixTime(seconds: 1_799_971_200 + 86_400 - 10)  // 10 s before a UTC midnight
        let system = VirtualSystemClock(beforeMidnight)
        let clock = OverlayClock(systemClock: system.read)
        try clock.setLeap(.insertSecond)
        system.advance(.seconds(9))
        let midnight = UnixTime(seconds: 1_799_971_200 + 86_400)
        #expect(clock.now() == midnight - .seconds(1))
        system.advance(.seconds(1))
        // At the system's midnight the overlay reads 23:59:59 again.
        #expect(clock.now() == midnight - .seconds(1))
        system.advance(.seconds(5))
        #expect(clock.now() == midnight + .seconds(4))
        #expect(clock.offsetFromSystem == .seconds(-1))
    }

    @Test func saysWhenItIsInTheRepeatedSecond() throws {
        let midnight = UnixTime(seconds: 1_799_971_200 + 86_400)
        let system = VirtualSystemClock(midnight - .seconds(2))
        let clock = OverlayClock(systemClock: system.read)
        try clock.setLeap(.insertSecond)
        system.advance(.milliseconds(1500))
        #expect(clock.now() == midnight - .milliseconds(500))
        #expect(!clock.isRepeatingLeapSecond)
        system.advance(.milliseconds(1000))
        #expect(clock.now() == midnight - .milliseconds(500))
        #expect(clock.isRepeatingLeapSecond)
        system.advance(.milliseconds(600))
        #expect(clock.now() == midnight + .milliseconds(100))
        #expect(!clock.isRepeatingLeapSecond)
    }

    @Test func aChangeDuringTheRepeatedSecondKeepsOneLeapSecond() throws {
        // The discipline may set the frequency at any moment, the inserted second included:
        // the leap must neither happen twice nor be forgotten while it is running.
        let midnight = UnixTime(seconds: 1_799_971_200 + 86_400)
        let system = VirtualSystemClock(midnight - .seconds(2))
        let clock = OverlayClock(systemClock: system.read)
        try clock.setLeap(.insertSecond)
        system.advance(.milliseconds(2300))
        try clock.setFrequency(0)
        #expect(clock.now() == midnight - .milliseconds(700))
        #expect(clock.isRepeatingLeapSecond)
        system.advance(.milliseconds(1000))
        #expect(clock.now() == midnight + .milliseconds(300))
        #expect(!clock.isRepeatingLeapSecond)
        system.advance(.seconds(10))
        #expect(clock.offsetFromSystem == .seconds(-1))
    }

    @Test func deletedLeapSecondSkipsTheLastSecondOfTheDay() throws {
        let midnight = UnixTime(seconds: 1_799_971_200 + 86_400)
        let system = VirtualSystemClock(midnight - .seconds(3))
        let clock = OverlayClock(systemClock: system.read)
        try clock.setLeap(.deleteSecond)
        system.advance(.milliseconds(2500))
        #expect(clock.now() == midnight + .milliseconds(500))
    }

    @Test func rejectsANonFiniteFrequency() {
        let clock = OverlayClock()
        #expect(throws: ClockError.self) { try clock.setFrequency(.nan) }
    }

    @Test func realSystemClockBaseStaysWithinTheInitialOffset() {
        let clock = OverlayClock(initialOffset: .milliseconds(-250))
        #expect(abs((clock.offsetFromSystem - .milliseconds(-250)).nanoseconds) < 1_000_000)
        #expect(clock.status.kind == .overlay)
    }
}

/// Only read-only operations: tests never change the machine's clock.
@Suite struct KernelClockTests {
    @Test func systemClockStateIsReadableWithoutPrivilege() throws {
        let clock = KernelClock.system()
        let state = try #require(clock.kernelState())
        #expect(state.frequencyPPM.isFinite && abs(state.frequencyPPM) <= 512)
        #expect(clock.time(atSystemTime: UnixTime(seconds: 5)) == UnixTime(seconds: 5))
        #expect(abs((clock.now() - WallClock.now()).nanoseconds) < 10_000_000)
    }

    @Test func missingHardwareClockIsAClearError() {
        #expect {
            _ = try KernelClock.ptpHardware(path: "/dev/ptp-does-not-exist")
        } throws: { error in
            (error as? ClockError)?.description.contains("/dev/ptp-does-not-exist") == true
        }
    }

    @Test func permissionErrorsSayWhatIsNeeded() {
        let error = ClockError("clock_adjtime ADJ_FREQUENCY", code: 1)
        #expect(error.isPermissionDenied)
        #expect(error.description.contains("CAP_SYS_TIME"))
    }
}
