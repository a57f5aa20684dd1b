// Timers: a binary min-heap of deadlines (monotonic ns). Adding and popping cost O(log n).
// Cancelling marks the timer; the loop drops it when it reaches the top. But a timer cancelled
// long before its deadline would otherwise sit in the heap until then: a long poll answered at
// once leaves its 25 s (up to 120 s) timeout behind, 5,000 of them a second in `make soak`, and
// each holds its closure. So once cancelled timers are more than half of the heap, the heap is
// rebuilt without them (O(n), paid for by the n/2 cancels before it): memory follows the live
// timers, whatever a client makes us schedule and cancel (PROTOCOL.md §9).

public final class LoopTimer {
    public let deadline: Int64
    let sequence: UInt64            // ties broken by insertion order
    let action: () -> Void
    public private(set) var isCancelled = false
    /// The heap that holds this timer, until it is popped or dropped (loop thread only).
    weak var heap: TimerHeap?
    init(deadline: Int64, sequence: UInt64, action: @escaping () -> Void) {
        self.deadline = deadline; self.sequence = sequence; self.action = action
    }
    public func cancel() {
        guard !isCancelled else { return }
        isCancelled = true
        heap?.timerCancelled()
    }
}

final class TimerHeap {
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
    /// Cancelled timers still in `heap`.
    private(set) var cancelledCount = 0

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }
    var earliestDeadline: Int64? { heap.first?.deadline }

    func add(deadline: Int64, action: @escaping () -> Void) -> LoopTimer {
        let timer = LoopTimer(deadline: deadline, sequence: nextSequence, action: action)
        timer.heap = self
        heap.append(Entry(deadline: deadline, sequence: nextSequence, timer: timer))
        nextSequence &+= 1
        siftUp(heap.count - 1)
        return timer
    }

    /// Removes and returns the earliest timer if it is due at `now`.
    func popDue(now: Int64) -> LoopTimer? {
        guard let first = heap.first, first.deadline <= now else { return nil }
        removeTop()
        return first.timer
    }

    /// Drops cancelled timers sitting at the top so `earliestDeadline` is meaningful.
    func dropCancelledHead() {
        while let first = heap.first, first.timer.isCancelled { removeTop() }
    }

    private func removeTop() {
        let top = heap[0].timer
        top.heap = nil
        if top.isCancelled { cancelledCount -= 1 }
        let last = heap.removeLast()
        if !heap.isEmpty { heap[0] = last; siftDown(0) }
    }

    /// A timer in this heap was cancelled (LoopTimer.cancel).
    func timerCancelled() {
        cancelledCount += 1
        if cancelledCount >= 64 && cancelledCount * 2 > heap.count { compact() }
    }

    /// Rebuilds the heap from its live timers (Floyd's bottom-up heap construction, O(n)), and
    /// gives back the memory the cancelled ones held.
    private func compact() {
        var live: [Entry] = []
        live.reserveCapacity(heap.count - cancelledCount)
        for e in heap {
            if e.timer.isCancelled { e.timer.heap = nil } else { live.append(e) }
        }
        heap = live
        cancelledCount = 0
        var i = heap.count / 2 - 1
        while i >= 0 { siftDown(i); i -= 1 }
    }

    /// Compares two entries in place: reading the keys through the buffer copies no entry, so
    /// no timer is retained and released on the way.
    @inline(__always)
    private static func less(_ b: UnsafeMutableBufferPointer<Entry>, _ i: Int, _ j: Int) -> Bool {
        let di = b[i].deadline, dj = b[j].deadline
        return di != dj ? di < dj : b[i].sequence < b[j].sequence
    }
    private func siftUp(_ index: Int) {
        heap.withUnsafeMutableBufferPointer { b in
            var child = index
            while child > 0 {
                let parent = (child - 1) / 2
                if !Self.less(b, child, parent) { break }
                b.swapAt(child, parent); child = parent
            }
        }
    }
    private func siftDown(_ index: Int) {
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
