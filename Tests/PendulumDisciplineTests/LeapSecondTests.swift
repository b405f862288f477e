import PendulumTime
import Testing

@testable import PendulumDiscipline

/// leap-seconds.list, the calendar, and which leap second reaches the clock when.
@Suite struct LeapSecondTests {
    /// The last three entries of IERS's list as tzdata ships it (updated 2025-07-08, expires 2026-06-28).
    static let list = """
        #\tUpdated through IERS Bulletin C 70
        #$\t 3960835200
        #@\t3991593600
        #NTP Time      DTAI    Day Month Year
        3550089600      35      # 1 Jul 2012
        3644697600      36      # 1 Jul 2015
        3692217600      37      # 1 Jan 2017

        #h\t00000000 00000000 00000000 00000000 00000000
        """
    // Unix seconds.
    static let endOf2016 = Int64(1_483_228_800)  // 2017-01-01 00:00
    static let lastDayOf2016 = endOf2016 - 86_400 + 43_200  // 2016-12-31 12:00

    @Test func theListIsReadAsPublished() throws {
        let parsed = try LeapSecondsList(parsing: Self.list)
        let table = parsed.table
        #expect(table.entries.count == 3)
        #expect(table.entries.last == LeapSecondTable.Entry(start: Self.endOf2016, taiOffset: 37))
        #expect(table.lastUpdate == 3_960_835_200 - 2_208_988_800)
        #expect(CivilDate(unixSeconds: table.expiry)?.description == "2026-06-28")
        // What the #h hash covers: the digits of #$, #@ and every entry, in order.
        #expect(parsed.hashedText == "39608352003991593600" + "355008960035" + "364469760036" + "369221760037")
        #expect(parsed.declaredHash == [UInt8](repeating: 0, count: 20))
        #expect(table.taiOffset(at: Self.lastDayOf2016) == 36)
        #expect(table.taiOffset(at: Self.endOf2016) == 37)
        #expect(table.taiOffset(at: 0) == nil)
        #expect(table.leap(atEndOfDayContaining: Self.lastDayOf2016) == .insertSecond)
        #expect(table.leap(atEndOfDayContaining: Self.endOf2016 - 1) == .insertSecond)
        #expect(table.leap(atEndOfDayContaining: Self.endOf2016) == .none)
        #expect(table.leap(atEndOfDayContaining: Self.lastDayOf2016 - 86_400) == .none)
        #expect(!table.isExpired(at: Self.lastDayOf2016) && table.isExpired(at: table.expiry))
    }

    @Test func aDeletionIsAStepDown() throws {
        let table = try LeapSecondTable(
            entries: [.init(start: Self.endOf2016, taiOffset: 37), .init(start: 1_830_297_600, taiOffset: 36)],  // 2028-01-01
            lastUpdate: 0, expiry: 1_900_000_000)
        #expect(table.leap(atEndOfDayContaining: 1_830_297_600 - 10) == .deleteSecond)
    }

    static let ntp: Int64 = 2_208_988_800
    static let damaged: [(String, LeapSecondsListError)] = [
        ("2272060800 10\n", LeapSecondsListError.missingUpdateTime),
        ("#$ 1\n2272060800 10\n", .missingExpiry),
        ("#$ 1\n#@ 5000000000\n", .noEntries),
        ("#$ 1\n#@ 5000000000\n2272060800\n", .malformedLine(3)),
        ("#$ 1\n#@ 5000000000\n2272060800 10 11\n", .malformedLine(3)),
        ("#$ 1\n#@ 5000000000\n-2272060800 10\n", .malformedLine(3)),
        ("#$ 1\n#@ 5000000000\n2272060800 +10\n", .malformedLine(3)),
        ("#$ 1 2\n#@ 5000000000\n2272060800 10\n", .malformedLine(1)),
        ("#$ 99999999999999999999\n", .malformedLine(1)),
        ("#$ 1\n#@ 5000000000\n2272060801 10\n", .notFirstOfMonth(2272060801 - Self.ntp)),
        ("#$ 1\n#@ 5000000000\n2272147200 10\n", .notFirstOfMonth(2272147200 - Self.ntp)),
        ("#$ 1\n#@ 5000000000\n2272060800 10\n2287785600 12\n", .notOneSecondStep(2287785600 - Self.ntp)),
        ("#$ 1\n#@ 5000000000\n2287785600 11\n2272060800 10\n", .notAscending(2272060800 - Self.ntp)),
        ("#$ 1\n#@ 5000000000\n2272060800 1001\n", .offsetOutOfRange(1001)),
        ("#$ 5000000000\n#@ 1\n2272060800 10\n", .expiresBeforeUpdate),
        ("#$ 1\n#@ 5000000000\n2272060800 10\n#h 0 0 0 0 0\n", .malformedHash(4)),
        ("#$ 1\n#@ 5000000000\n2272060800 10\n#h 0000000g 00000000 00000000 00000000 00000000\n", .malformedHash(4)),
    ]

    @Test(arguments: Self.damaged)
    func damagedListsAreRefused(text: String, error: LeapSecondsListError) {
        #expect(throws: error) { try LeapSecondsList(parsing: text) }
    }

    @Test func anOversizedFileIsRefusedBeforeParsing() {
        let text = String(repeating: "#\n", count: LeapSecondsList.maximumSize)
        #expect(throws: LeapSecondsListError.tooLarge(2 * LeapSecondsList.maximumSize)) { try LeapSecondsList(parsing: text) }
    }

    @Test func theCalendarIsRight() {
        #expect(CivilDate(unixSeconds: 0)?.description == "1970-01-01")
        #expect(CivilDate(unixSeconds: -1)?.description == "1969-12-31")
        #expect(CivilDate(unixSeconds: 951_782_400)?.description == "2000-02-29")
        #expect(CivilDate(unixSeconds: 951_782_400)?.isLastDayOfMonth == true)
        #expect(CivilDate(unixSeconds: 4_107_456_000)?.description == "2100-02-28")  // not a leap year
        #expect(CivilDate(unixSeconds: 4_107_456_000)?.isLastDayOfMonth == true)
        #expect(CivilDate(unixSeconds: Self.endOf2016 - 1)?.description == "2016-12-31")
        #expect(CivilDate(unixSeconds: Int64.max) == nil && CivilDate(unixSeconds: Int64.min) == nil)
        #expect(CivilDate.midnight(after: Self.endOf2016 - 1) == Self.endOf2016)
        #expect(CivilDate.midnight(after: Self.endOf2016) == Self.endOf2016 + 86_400)
        #expect(CivilDate.midnight(after: -1) == 0)
        // Every day of 400 years against a day count.
        var days: Int64 = 0
        var date = CivilDate(unixSeconds: 0)
        while days < 146_097 {
            let next = CivilDate(unixSeconds: (days + 1) * 86_400)
            if let current = date, let next {
                #expect(current.isLastDayOfMonth == (next.day == 1))
                if next.day != 1 { #expect(next.day == current.day + 1 && next.month == current.month) }
            }
            date = next
            days += 1
        }
    }

    @Test func thePolicyTrustsAValidListAndOtherwiseTheMajorityOnTheRightDay() throws {
        let table = try LeapSecondsList(parsing: Self.list).table
        let day = Self.lastDayOf2016
        // A valid list decides alone, whatever the sources say.
        #expect(LeapSecondPolicy.decide(announced: .none, at: day, table: table) == .insertSecond)
        #expect(LeapSecondPolicy.decide(announced: .deleteSecond, at: day, table: table) == .insertSecond)
        #expect(LeapSecondPolicy.decide(announced: .insertSecond, at: day - 86_400, table: table) == .none)
        // Without one (or expired), the vote counts on the last day of June or December only.
        #expect(LeapSecondPolicy.decide(announced: .insertSecond, at: day, table: nil) == .insertSecond)
        #expect(LeapSecondPolicy.decide(announced: .deleteSecond, at: day, table: nil) == .deleteSecond)
        #expect(LeapSecondPolicy.decide(announced: .insertSecond, at: day - 86_400, table: nil) == .none)
        let lastDayOfMarch2027 = Int64(1_806_451_200) - 43_200  // 2027-03-31 12:00
        #expect(LeapSecondPolicy.decide(announced: .insertSecond, at: lastDayOfMarch2027, table: nil) == .none)
        let lastDayOfJune2027 = Int64(1_814_400_000) - 43_200  // 2027-06-30 12:00
        #expect(LeapSecondPolicy.decide(announced: .deleteSecond, at: lastDayOfJune2027, table: table) == .deleteSecond, "the list has expired")
        #expect(LeapSecondPolicy.decide(announced: .unsynchronized, at: lastDayOfJune2027, table: nil) == .none)
    }

    // MARK: The discipline

    /// A discipline with three sources answering once a second from `start` (Unix seconds);
    /// `leaps` are what each announces.
    func run(
        from start: Int64, seconds: Int, leaps: [LeapIndicator], table: LeapSecondTable? = nil,
        offset: (_ second: Int) -> Double = { _ in 0 }
    ) -> (actions: [(Int, ClockAction)], events: [DisciplineEvent], discipline: ClockDiscipline) {
        var configuration = DisciplineConfiguration()
        configuration.pollLimits = 0...0
        configuration.leapSeconds = table
        var discipline = ClockDiscipline(configuration: configuration)
        for index in leaps.indices { discipline.addSource(SourceID(index)) }
        var actions: [(Int, ClockAction)] = []
        var events: [DisciplineEvent] = []
        let base = NTPTimestamp(UnixTime(seconds: start))
        for second in 0..<seconds {
            for (index, leap) in leaps.enumerated() {
                let time = base + NTPDuration(approximateSeconds: Double(second) + 0.1 * Double(index))
                let sample = Measurement(
                    offset: NTPDuration(approximateSeconds: offset(second)), delay: .milliseconds(1), localTime: time, stratum: 1,
                    leap: leap)
                discipline.pollSent(to: SourceID(index))
                let update = discipline.handle(sample, from: SourceID(index))
                actions += update.actions.map { (second, $0) }
                events += update.events
            }
        }
        return (actions, events, discipline)
    }

    func leaps(_ actions: [(Int, ClockAction)]) -> [(Int, LeapIndicator)] {
        actions.compactMap { second, action in if case .setLeap(let leap) = action { (second, leap) } else { nil } }
    }

    @Test func aMajorityOnTheLastDayOfDecemberReachesTheClockAndIsWithdrawnAfterMidnight() {
        let start = Self.endOf2016 - 30
        let result = run(from: start, seconds: 60, leaps: [.insertSecond, .insertSecond, .none])
        let announced = leaps(result.actions)
        #expect(announced.first?.1 == .insertSecond)
        #expect(announced.count == 2)
        #expect(announced.last.map { $0.0 >= 30 && $0.1 == .none } == true, "\(announced)")
        #expect(result.discipline.system.leap == .none)
    }

    @Test func aMinorityIsIgnored() {
        let result = run(from: Self.endOf2016 - 30, seconds: 20, leaps: [.insertSecond, .none, .none])
        #expect(leaps(result.actions).isEmpty)
    }

    @Test func aMajorityOnAnOrdinaryDayIsIgnored() {
        let result = run(from: Self.endOf2016 - 86_400 * 5, seconds: 20, leaps: [.insertSecond, .insertSecond, .insertSecond])
        #expect(leaps(result.actions).isEmpty)
        #expect(result.discipline.system.leap == .none)
    }

    @Test func aValidListOverridesTheSourcesAndGivesTheTAIOffset() throws {
        let table = try LeapSecondsList(parsing: Self.list).table
        let result = run(from: Self.endOf2016 - 30, seconds: 10, leaps: [.none, .none, .none], table: table)
        #expect(leaps(result.actions).map(\.1) == [.insertSecond])
        #expect(result.discipline.system.leap == .insertSecond)
        let tai = result.actions.compactMap { _, action in if case .setTAIOffset(let offset) = action { offset } else { nil } }
        #expect(tai == [36])
    }

    @Test func samplesAroundTheLeapSecondAreNotTrusted() {
        // Just after midnight every source is a second off (the clock has not inserted yet):
        // without the guard, that would be a step.
        let start = Self.endOf2016 - 30
        let result = run(from: start, seconds: 40, leaps: [.insertSecond, .insertSecond, .insertSecond]) { second in
            (30...32).contains(second) ? -1 : 0
        }
        let ignored = result.events.filter { if case .sampleIgnoredAroundLeapSecond = $0 { true } else { false } }
        #expect(ignored.count == 3 * 5, "2 s before and 3 s after midnight, three sources")
        #expect(!result.actions.contains { if case .step = $0.1 { true } else { false } })
    }
}
