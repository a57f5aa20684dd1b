import XCTest
@testable import WireLoop

final class TimerHeapTests: XCTestCase {
    func testTimersPopInDeadlineOrderAndTiesInInsertionOrder() {
        var heap = TimerHeap()
        var fired: [String] = []
        let deadlines: [(Int64, String)] = [(50, "c"), (10, "a"), (30, "b1"), (30, "b2"), (90, "d")]
        for (d, name) in deadlines { _ = heap.add(deadline: d) { fired.append(name) } }
        while let t = heap.popDue(now: 100) { t.action() }
        XCTAssertEqual(fired, ["a", "b1", "b2", "c", "d"])
        XCTAssertTrue(heap.isEmpty)
    }

    func testNothingPopsBeforeItsDeadline() {
        var heap = TimerHeap()
        _ = heap.add(deadline: 100) {}
        XCTAssertNil(heap.popDue(now: 99))
        XCTAssertNotNil(heap.popDue(now: 100))
    }

    func testCancelledTimersAreDroppedFromTheHead() {
        var heap = TimerHeap()
        let first = heap.add(deadline: 10) {}
        _ = heap.add(deadline: 20) {}
        first.cancel()
        heap.dropCancelledHead()
        XCTAssertEqual(heap.earliestDeadline, 20)
    }

    func testSeededRandomDeadlinesComeOutSorted() {
        var heap = TimerHeap()
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
