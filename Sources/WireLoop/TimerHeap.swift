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
    private var heap: [LoopTimer] = []
    private var nextSequence: UInt64 = 0

    var isEmpty: Bool { heap.isEmpty }
    var earliestDeadline: Int64? { heap.first?.deadline }

    mutating func add(deadline: Int64, action: @escaping () -> Void) -> LoopTimer {
        let timer = LoopTimer(deadline: deadline, sequence: nextSequence, action: action)
        nextSequence &+= 1
        heap.append(timer)
        siftUp(heap.count - 1)
        return timer
    }

    /// Removes and returns the earliest timer if it is due at `now`.
    mutating func popDue(now: Int64) -> LoopTimer? {
        guard let first = heap.first, first.deadline <= now else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty { heap[0] = last; siftDown(0) }
        return first
    }

    /// Drops cancelled timers sitting at the top so `earliestDeadline` is meaningful.
    mutating func dropCancelledHead() {
        while let first = heap.first, first.isCancelled {
            let last = heap.removeLast()
            if !heap.isEmpty { heap[0] = last; siftDown(0) }
        }
    }

    private func less(_ a: LoopTimer, _ b: LoopTimer) -> Bool {
        a.deadline != b.deadline ? a.deadline < b.deadline : a.sequence < b.sequence
    }
    private mutating func siftUp(_ index: Int) {
        var child = index
        while child > 0 {
            let parent = (child - 1) / 2
            if !less(heap[child], heap[parent]) { break }
            heap.swapAt(child, parent); child = parent
        }
    }
    private mutating func siftDown(_ index: Int) {
        var parent = index
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < heap.count && less(heap[left], heap[smallest]) { smallest = left }
            if right < heap.count && less(heap[right], heap[smallest]) { smallest = right }
            if smallest == parent { return }
            heap.swapAt(parent, smallest); parent = smallest
        }
    }
}
