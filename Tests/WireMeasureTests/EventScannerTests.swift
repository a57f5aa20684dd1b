import XCTest
@testable import WireMeasure

final class EventScannerTests: XCTestCase {
    func testReadsIdAndTsOfTheContractEvent() {
        let event = Array(#"{"id":42,"ts":1763771234567123,"topic":"tick","data":"xxxxxxxx"}"#.utf8)
        XCTAssertEqual(EventScanner.event(event), EventScanner.Stamp(id: 42, ts: 1763771234567123))
    }

    func testIgnoresMessagesThatAreNotEvents() {
        XCTAssertNil(EventScanner.event(Array(#"{"type":"error","error":"unknown"}"#.utf8)))
    }

    func testPollBodyGivesEveryEventNextAndMissed() {
        let body = Array(#"{"events":[{"id":7,"ts":100,"topic":"chat","data":"{\"id\":99,\"ts\":1} \"next\":5"},{"id":8,"ts":200,"topic":"tick","data":"x"}],"next":8,"missed":3}"#.utf8)
        let answer = EventScanner.pollBody(body)
        XCTAssertEqual(answer.events, [EventScanner.Stamp(id: 7, ts: 100), EventScanner.Stamp(id: 8, ts: 200)])
        XCTAssertEqual(answer.next, 8)
        XCTAssertEqual(answer.missed, 3)
    }

    func testEmptyPollBody() {
        let answer = EventScanner.pollBody(Array(#"{"events":[],"next":12,"missed":0}"#.utf8))
        XCTAssertEqual(answer.events, [])
        XCTAssertEqual(answer.next, 12)
    }
}
