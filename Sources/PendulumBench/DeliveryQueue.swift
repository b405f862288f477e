/// Datagrams waiting for their delivery time: a binary min-heap on (due, arrival order), so
/// the next deadline is found in O(1) and two datagrams due at the same nanosecond keep their
/// order. Bounded, so a flood cannot grow the proxy without limit.
package struct DeliveryQueue<Payload> {
    private struct Entry {
        var due: UInt64
        var sequence: UInt64
        var payload: Payload

        func precedes(_ other: Entry) -> Bool {
            due != other.due ? due < other.due : sequence < other.sequence
        }
    }

    package let capacity: Int
    private var heap: [Entry] = []
    private var nextSequence: UInt64 = 0

    package init(capacity: Int) {
        self.capacity = max(capacity, 1)
    }

    package var count: Int { heap.count }
    package var isEmpty: Bool { heap.isEmpty }

    /// The earliest due time, nil when nothing waits.
    package var nextDue: UInt64? { heap.first?.due }

    /// False, and nothing stored, when the queue is full.
    @discardableResult
    package mutating func insert(_ payload: Payload, due: UInt64) -> Bool {
        guard heap.count < capacity else { return false }
        heap.append(Entry(due: due, sequence: nextSequence, payload: payload))
        nextSequence &+= 1
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
        return true
    }

    /// The earliest entry if it is due at `now`, removed from the queue.
    package mutating func popDue(at now: UInt64) -> (due: UInt64, payload: Payload)? {
        guard let first = heap.first, first.due <= now else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < heap.count, heap[left].precedes(heap[smallest]) { smallest = left }
                if right < heap.count, heap[right].precedes(heap[smallest]) { smallest = right }
                if smallest == parent { break }
                heap.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return (first.due, first.payload)
    }
}
