// Timers: a binary min-heap of deadlines (monotonic ns). Adding and popping cost O(log n);
// cancelling just marks the timer, and the loop drops it when it reaches the top.

public final class LoopTimer {
    public let deadline: Int64
    let sequence: UInt64            // ties broken by insertion order
    let action: () -> Void
    public private(set) var isCancelled = false
    init(deadline: Int64, sequence: UInt64, action: @escaping () -> Void) {
        self.deadline = deadline; self.sequence = sequence; self.action = action
    }
    public func cancel() { isCancelled = true }
}

struct TimerHeap {
    /// The key is kept beside the timer so that sifting compares plain integers and never
    /// touches (retains) the timer objects: a proxy with `--delay` adds and pops one timer per
    /// relayed message.
    private struct Entry {
        let deadline: Int64
        let sequence: UInt64            // ties broken by insertion order
        let timer: LoopTimer
    }
    private var heap: [Entry] = []
    private var nextSequence: UInt64 = 0

    var isEmpty: Bool { heap.isEmpty }
    var earliestDeadline: Int64? { heap.first?.deadline }

    mutating func add(deadline: Int64, action: @escaping () -> Void) -> LoopTimer {
        let timer = LoopTimer(deadline: deadline, sequence: nextSequence, action: action)
        heap.append(Entry(deadline: deadline, sequence: nextSequence, timer: timer))
        nextSequence &+= 1
        siftUp(heap.count - 1)
        return timer
    }

    /// Removes and returns the earliest timer if it is due at `now`.
    mutating func popDue(now: Int64) -> LoopTimer? {
        guard let first = heap.first, first.deadline <= now else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty { heap[0] = last; siftDown(0) }
        return first.timer
    }

    /// Drops cancelled timers sitting at the top so `earliestDeadline` is meaningful.
    mutating func dropCancelledHead() {
        while let first = heap.first, first.timer.isCancelled {
            let last = heap.removeLast()
            if !heap.isEmpty { heap[0] = last; siftDown(0) }
        }
    }

    /// Compares two entries in place: reading the keys through the buffer copies no entry, so
    /// no timer is retained and released on the way.
    @inline(__always)
    private static func less(_ b: UnsafeMutableBufferPointer<Entry>, _ i: Int, _ j: Int) -> Bool {
        let di = b[i].deadline, dj = b[j].deadline
        return di != dj ? di < dj : b[i].sequence < b[j].sequence
    }
    private mutating func siftUp(_ index: Int) {
        heap.withUnsafeMutableBufferPointer { b in
            var child = index
            while child > 0 {
                let parent = (child - 1) / 2
                if !Self.less(b, child, parent) { break }
                b.swapAt(child, parent); child = parent
            }
        }
    }
    private mutating func siftDown(_ index: Int) {
        heap.withUnsafeMutableBufferPointer { b in
            var parent = index
            let n = b.count
            while true {
                let left = 2 * parent + 1, right = left + 1
                var smallest = parent
                if left < n && Self.less(b, left, smallest) { smallest = left }
                if right < n && Self.less(b, right, smallest) { smallest = right }
                if smallest == parent { return }
                b.swapAt(parent, smallest); parent = smallest
            }
        }
    }
}
