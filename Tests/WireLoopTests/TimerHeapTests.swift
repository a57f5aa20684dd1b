import XCTest
@testable import WireLoop
import Foundation

final class TimerHeapTests: XCTestCase {
    func testTimersPopInDeadlineOrderAndTiesInInsertionOrder() {
        let heap = TimerHeap()
        var fired: [String] = []
        let deadlines: [(Int64, String)] = [(50, "c"), (10, "a"), (30, "b1"), (30, "b2"), (90, "d")]
        for (d, name) in deadlines { _ = heap.add(deadline: d) { fired.append(name) } }
        while let t = heap.popDue(now: 100) { t.action() }
        XCTAssertEqual(fired, ["a", "b1", "b2", "c", "d"])
        XCTAssertTrue(heap.isEmpty)
    }

    func testNothingPopsBeforeItsDeadline() {
        let heap = TimerHeap()
        _ = heap.add(deadline: 100) {}
        XCTAssertNil(heap.popDue(now: 99))
        XCTAssertNotNil(heap.popDue(now: 100))
    }

    func testCancelledTimersAreDroppedFromTheHead() {
        let heap = TimerHeap()
        let first = heap.add(deadline: 10) {}
        _ = heap.add(deadline: 20) {}
        first.cancel()
        heap.dropCancelledHead()
        XCTAssertEqual(heap.earliestDeadline, 20)
        XCTAssertEqual(heap.cancelledCount, 0)
    }

    /// Timers cancelled long before their deadline (a long poll answered at once leaves its
    /// timeout behind) do not pile up: past half the heap they are swept out, and the live ones
    /// still fire in order. A timer cancelled after it fired is not counted.
    func testCancelledTimersDoNotAccumulate() {
        let heap = TimerHeap()
        var fired: [Int64] = []
        var live: [LoopTimer] = []
        for i in 0..<10_000 {
            let d = Int64(1_000_000 + (i * 7919) % 10_000)
            let t = heap.add(deadline: d) { fired.append(d) }
            if i % 100 == 0 { live.append(t) } else { t.cancel() }
            XCTAssertLessThanOrEqual(heap.count, 2 * (live.count + 64), "at \(i)")
        }
        XCTAssertLessThanOrEqual(heap.cancelledCount, heap.count / 2 + 64)
        while let t = heap.popDue(now: Int64.max) { if !t.isCancelled { t.action() } }
        XCTAssertEqual(fired, live.map(\.deadline).sorted())
        XCTAssertEqual(heap.cancelledCount, 0)
        live[0].cancel()               // already fired: nothing in the heap to account for
        XCTAssertEqual(heap.cancelledCount, 0)
    }

    func testSeededRandomDeadlinesComeOutSorted() {
        let heap = TimerHeap()
        var state: UInt64 = 42
        var expected: [Int64] = []
        for _ in 0..<1000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let d = Int64(state >> 40)
            expected.append(d)
            _ = heap.add(deadline: d) {}
        }
        var got: [Int64] = []
        while let t = heap.popDue(now: Int64.max) { got.append(t.deadline) }
        XCTAssertEqual(got, expected.sorted())
    }
}

/// The loop's timers on a ManualClock: what fires at which virtual time.
final class EventLoopVirtualTimeTests: XCTestCase {
    func testTimersFireWhenTheVirtualClockReachesThemAndNotBefore() {
        let clock = ManualClock()
        for kind in [SelectorKind.epoll, .poll] {
            let loop = EventLoop(index: 0, selector: kind, clock: clock)
            loop.start(name: "virtual-\(kind)")
            let lock = Lock()
            var fired: [String] = []
            func firedNow() -> [String] {
                // A queued closure runs after the due timers of the same turn: a barrier.
                let done = DispatchSemaphore(value: 0)
                loop.execute { done.signal() }
                done.wait()
                return lock.withLock { fired }
            }
            let start = clock.nowNanos()
            loop.execute {
                loop.schedule(afterNanos: 25_000_000_000) { lock.withLock { fired.append("25 s") } }
                loop.schedule(atNanos: start + 1_000_000_000) { lock.withLock { fired.append("1 s") } }
                let cancelled = loop.schedule(afterNanos: 2_000_000_000) { lock.withLock { fired.append("cancelled") } }
                cancelled.cancel()
            }
            XCTAssertEqual(firedNow(), [])
            clock.advance(byNanos: 999_999_999)
            XCTAssertEqual(firedNow(), [], "\(kind): nothing before 1 s")
            clock.advance(byNanos: 1)
            XCTAssertEqual(firedNow(), ["1 s"], "\(kind)")
            clock.advance(seconds: 23.999)
            XCTAssertEqual(firedNow(), ["1 s"], "\(kind): the cancelled timer never fires; 25 s not yet")
            // The loop is asleep until its earliest timer (24 s of real time away): advancing the
            // clock must wake it, with no queued work to help.
            clock.advance(seconds: 0.001)
            let deadline = Date().addingTimeInterval(5)
            while lock.withLock({ fired.count }) < 2 && Date() < deadline { usleep(1_000) }
            XCTAssertEqual(lock.withLock { fired }, ["1 s", "25 s"], "\(kind): woken by the advance itself")
            loop.stop()
            clock.advance(byNanos: 0)
        }
    }
}
