import Testing
import PendulumBench

@Suite struct DeliveryQueueTests {
    @Test func deliversInDueOrderAndKeepsArrivalOrderOnTies() {
        var queue = DeliveryQueue<String>(capacity: 16)
        queue.insert("c", due: 30)
        queue.insert("a", due: 10)
        queue.insert("b1", due: 20)
        queue.insert("b2", due: 20)
        #expect(queue.nextDue == 10)
        #expect(queue.popDue(at: 5) == nil)
        var order: [String] = []
        while let next = queue.popDue(at: 100) { order.append(next.payload) }
        #expect(order == ["a", "b1", "b2", "c"])
        #expect(queue.isEmpty)
    }

    @Test func popsOnlyWhatIsDue() {
        var queue = DeliveryQueue<Int>(capacity: 16)
        for value in [50, 10, 40, 20, 30] { queue.insert(value, due: UInt64(value)) }
        #expect(queue.popDue(at: 25)?.payload == 10)
        #expect(queue.popDue(at: 25)?.payload == 20)
        #expect(queue.popDue(at: 25) == nil)
        #expect(queue.count == 3)
    }

    @Test func aFullQueueRefusesMore() {
        var queue = DeliveryQueue<Int>(capacity: 2)
        let first = queue.insert(1, due: 1)
        let second = queue.insert(2, due: 2)
        let third = queue.insert(3, due: 0)
        #expect(first && second && !third)
        #expect(queue.count == 2)
    }

    @Test func randomInsertionsComeOutSorted() {
        var generator = ImpairmentGenerator(seed: 99)
        var queue = DeliveryQueue<UInt64>(capacity: 10_000)
        for _ in 0..<5_000 {
            let due = generator.next() % 1_000
            queue.insert(due, due: due)
        }
        var previous: UInt64 = 0
        var count = 0
        while let next = queue.popDue(at: .max) {
            #expect(next.due >= previous)
            previous = next.due
            count += 1
        }
        #expect(count == 5_000)
    }

    @Test func latenessHistogramReportsMeanQuantileAndMaximum() {
        var histogram = LatenessHistogram()
        for microseconds in 1...100 { histogram.record(nanoseconds: UInt64(microseconds) * 1_000 - 500) }
        #expect(histogram.count == 100)
        #expect(abs(histogram.meanMicroseconds - 50) < 0.01)
        #expect(histogram.quantileMicroseconds(0.99) == 99)
        #expect(histogram.maximumNanoseconds == 99_500)
        histogram.record(nanoseconds: 50_000_000)
        #expect(histogram.quantileMicroseconds(1) == 50_000)
    }
}
