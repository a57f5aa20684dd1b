// One integer that one thread writes and any thread may read without a lock: the Feed's latest
// id, read by every `/poll` on every loop. A mutex would do (uncontended it costs ~20 ns), but
// the loops and the generator contend for the Feed's; a reader here never waits.
// The value lives on the heap (a stored property's `&` in Swift is not a stable address).
import CWireSystem

public final class AtomicInt {
    private let cell = UnsafeMutablePointer<Int64>.allocate(capacity: 1)
    public init(_ value: Int = 0) { cell.initialize(to: Int64(value)) }
    deinit { cell.deallocate() }

    /// Acquire: whatever the writer did before its `store` is visible after this load.
    @inline(__always)
    public func load() -> Int { Int(cws_atomic_load_acquire(cell)) }

    /// Release. Writers serialize among themselves (the Feed stores under its lock).
    @inline(__always)
    public func store(_ value: Int) { cws_atomic_store_release(cell, Int64(value)) }
}
