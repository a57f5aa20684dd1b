// EventReceipts: the bitmap behind race's `events`, `missed` and `duplicates` (PROTOCOL.md §5).
// Gaps and repeats are fed on purpose, so each count is checked against a number that is not 0.
import XCTest
@testable import WireMeasure

final class EventReceiptsTests: XCTestCase {
    func testGapsAreNotCountedAsReceived() {
        var r = EventReceipts()
        r.start(firstID: 10)
        for id in [10, 11, 13, 15] { XCTAssertTrue(r.note(id), "first receipt of \(id)") }
        XCTAssertEqual(r.distinct(through: 15), 4)
        // The run's events are 10...15: 12 and 14 never arrived, so 6 - 4 = 2 missed.
        XCTAssertEqual(15 - 10 + 1 - r.distinct(through: 15), 2)
        XCTAssertEqual(r.duplicates, 0)
        XCTAssertEqual(r.highestID, 15)
    }

    func testRepeatsAreDuplicatesAndCountOnce() {
        var r = EventReceipts()
        r.start(firstID: 1)
        XCTAssertTrue(r.note(1))
        XCTAssertTrue(r.note(2))
        XCTAssertFalse(r.note(2))
        XCTAssertFalse(r.note(1))
        XCTAssertFalse(r.note(2))
        XCTAssertEqual(r.duplicates, 3)
        XCTAssertEqual(r.distinct(through: 2), 2)
    }

    func testIdsBeforeTheRunAreIgnoredNotDuplicates() {
        var r = EventReceipts()
        r.start(firstID: 100)
        XCTAssertFalse(r.note(99))
        XCTAssertFalse(r.note(99))
        XCTAssertEqual(r.duplicates, 0)
        XCTAssertEqual(r.distinct(through: 200), 0)
        XCTAssertEqual(r.highestID, 99)
    }

    func testDistinctStopsAtTheLastIdAcrossWordBoundaries() {
        var r = EventReceipts()
        r.start(firstID: 5)
        // Offsets 0...199 except every seventh: crosses three 64-bit words.
        var expectedThrough: [Int: Int] = [:]
        var count = 0
        for offset in 0..<200 {
            if offset % 7 != 3 { XCTAssertTrue(r.note(5 + offset)); count += 1 }
            expectedThrough[5 + offset] = count
        }
        for last in [5, 6, 8, 68, 69, 70, 132, 133, 204] {
            XCTAssertEqual(r.distinct(through: last), expectedThrough[last], "through \(last)")
        }
        // Ids after the run's last id (received during the grace period) are not the run's.
        XCTAssertEqual(r.distinct(through: 4), 0)
        XCTAssertEqual(r.distinct(through: 10_000), count)
    }

    func testRepeatAcrossAWordBoundaryIsStillADuplicate() {
        var r = EventReceipts()
        r.start(firstID: 1)
        XCTAssertTrue(r.note(64))
        XCTAssertTrue(r.note(65))
        XCTAssertTrue(r.note(1000))
        XCTAssertFalse(r.note(65))
        XCTAssertFalse(r.note(1000))
        XCTAssertEqual(r.duplicates, 2)
        XCTAssertEqual(r.distinct(through: 1000), 3)
        XCTAssertEqual(r.distinct(through: 64), 1)
    }
}
