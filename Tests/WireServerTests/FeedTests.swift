import XCTest
@testable import WireServer

final class FeedTests: XCTestCase {
    func testIdsStartAtOneAndIncrease() {
        let feed = Feed(history: 10, rate: 0, size: 4)
        XCTAssertEqual(feed.publish(topic: .tick, data: "a").id, 1)
        XCTAssertEqual(feed.publish(topic: .chat, data: "b").id, 2)
        XCTAssertEqual(feed.latestID, 2)
    }

    func testEventJSONHasExactlyTheFourKeysInOrderWithoutSpaces() {
        let e = PublishedEvent(id: 42, ts: 1763771234567123, topic: .tick, data: "xxxxxxxx")
        XCTAssertEqual(String(decoding: e.json, as: UTF8.self),
                       #"{"id":42,"ts":1763771234567123,"topic":"tick","data":"xxxxxxxx"}"#)
    }

    func testChatDataIsEscapedAsAJSONString() {
        let e = PublishedEvent(id: 1, ts: 5, topic: .chat, data: "say \"hi\"\\\n\u{01}é")
        XCTAssertEqual(String(decoding: e.json, as: UTF8.self),
                       #"{"id":1,"ts":5,"topic":"chat","data":"say \"hi\"\\\n\u0001é"}"#)
    }

    func testFramingIsBuiltOnceForEachPushTransport() {
        let e = PublishedEvent(id: 7, ts: 9, topic: .tick, data: "x")
        let json = #"{"id":7,"ts":9,"topic":"tick","data":"x"}"#
        XCTAssertEqual(String(decoding: e.sseBlock, as: UTF8.self), "id: 7\nevent: tick\ndata: \(json)\n\n")
        let block = "id: 7\nevent: tick\ndata: \(json)\n\n"
        XCTAssertEqual(String(decoding: e.sseChunk, as: UTF8.self),
                       String(block.utf8.count, radix: 16) + "\r\n" + block + "\r\n")
        // RFC 6455 §5.2: FIN + text opcode, unmasked, 7-bit length.
        XCTAssertEqual(Array(e.webSocketFrame.prefix(2)), [0x81, UInt8(json.utf8.count)])
        XCTAssertEqual(Array(e.webSocketFrame.dropFirst(2)), Array(json.utf8))
    }

    /// "Encode once, write many": every reader of an event gets the same storage, not a fresh
    /// encoding with equal content. A computed `sseChunk` or `webSocketFrame`, or a Feed that
    /// re-serializes on read, would give new buffers and fail here.
    func testFramingIsBuiltOnceAndSharedByEveryReader() {
        let feed = Feed(history: 10, rate: 0, size: 4)
        let published = feed.publish(topic: .tick, data: "abcd")
        let replayed = feed.events(after: 0, limit: 10).events
        XCTAssertEqual(replayed.count, 1)
        XCTAssertTrue(replayed[0] === published, "the history hands out the published object itself")
        func storage(_ bytes: [UInt8]) -> UnsafeRawPointer? { bytes.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) } }
        for (name, read) in [("json", { (e: PublishedEvent) in e.json }), ("sseBlock", { $0.sseBlock }),
                             ("sseChunk", { $0.sseChunk }), ("webSocketFrame", { $0.webSocketFrame })] {
            let a = read(published), b = read(replayed[0]), c = read(feed.events(after: 0, limit: 1).events[0])
            XCTAssertNotNil(storage(a))
            XCTAssertEqual(storage(a), storage(b), "\(name): same bytes in memory for every reader")
            XCTAssertEqual(storage(a), storage(c), "\(name): same bytes in memory for every reader")
        }
    }

    func testTickDataIsSizePrintableCharacters() {
        let data = Feed.tickData(size: 100)
        XCTAssertEqual(data.utf8.count, 100)
        XCTAssertTrue(data.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x5C })
    }

    func testEventsAfterSinceAreOldestFirstAndLimited() {
        let feed = Feed(history: 100, rate: 0, size: 1)
        for _ in 1...10 { feed.publish(topic: .tick, data: "x") }
        let s = feed.events(after: 3, limit: 4)
        XCTAssertEqual(s.events.map { $0.id }, [4, 5, 6, 7])
        XCTAssertEqual(s.next, 7)
        XCTAssertEqual(s.missed, 0)
        let none = feed.events(after: 10, limit: 1000)
        XCTAssertEqual(none.events.count, 0)
        XCTAssertEqual(none.next, 10)
        XCTAssertEqual(feed.events(after: 3, limit: 0).events.count, 0)
        XCTAssertEqual(feed.events(after: 3, limit: 0).next, 3)
    }

    func testHistoryRingCountsMissedEvents() {
        let feed = Feed(history: 5, rate: 0, size: 1)
        for _ in 1...12 { feed.publish(topic: .tick, data: "x") }
        // Retained: 8...12. After since=2, events 3...7 are gone.
        let s = feed.events(after: 2, limit: 1000)
        XCTAssertEqual(s.events.map { $0.id }, [8, 9, 10, 11, 12])
        XCTAssertEqual(s.missed, 5)
    }

    func testSinceBeyondLatestStartsOverFromTheOldest() {
        let feed = Feed(history: 5, rate: 0, size: 1)
        for _ in 1...3 { feed.publish(topic: .tick, data: "x") }
        let s = feed.events(after: 99, limit: 1000)
        XCTAssertEqual(s.events.map { $0.id }, [1, 2, 3])
        XCTAssertEqual(s.missed, 0)
    }

    func testUnboundedLimitDoesNotOverflow() {
        let feed = Feed(history: 5, rate: 0, size: 1)
        feed.publish(topic: .tick, data: "x")
        XCTAssertEqual(feed.events(after: 0, limit: Int.max).events.count, 1)
    }
}

final class HelpersTests: XCTestCase {
    func testHTTPDateIsIMFFixdate() {
        // RFC 9110 §5.6.7's example: Sun, 06 Nov 1994 08:49:37 GMT = 784111777.
        XCTAssertEqual(HTTPDate.format(epochSeconds: 784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT")
        XCTAssertEqual(HTTPDate.format(epochSeconds: 0), "Thu, 01 Jan 1970 00:00:00 GMT")
    }

    func testClientNamesFollowTheContract() {
        XCTAssertTrue(Router.isValidClientName("race-ws-1"))
        XCTAssertTrue(Router.isValidClientName(String(repeating: "a", count: 64)))
        XCTAssertFalse(Router.isValidClientName(""))
        XCTAssertFalse(Router.isValidClientName(String(repeating: "a", count: 65)))
        XCTAssertFalse(Router.isValidClientName("a b"))
        XCTAssertFalse(Router.isValidClientName("é"))
    }

    func testNonNegativeIntegersAreDigitsOnly() {
        XCTAssertEqual(Router.nonNegativeInteger("0"), 0)
        XCTAssertEqual(Router.nonNegativeInteger("120"), 120)
        XCTAssertEqual(Router.nonNegativeInteger("99999999999999999999999"), Int.max)
        for bad in ["", "-1", "1.5", "abc", " 1", "+1"] { XCTAssertNil(Router.nonNegativeInteger(bad), bad) }
    }

    func testJSONNumbers() {
        XCTAssertEqual(JSON.number(2), "2")
        XCTAssertEqual(JSON.number(0.25), "0.25")
        XCTAssertEqual(JSON.number(12.5), "12.5")
    }
}
