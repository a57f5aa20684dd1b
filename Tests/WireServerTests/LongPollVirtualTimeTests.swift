// /longpoll's timeouts (PROTOCOL.md §2: default 25 s, at most 120 s) checked at virtual times:
// the server's loops run on a ManualClock, the test moves it to just before and exactly at the
// deadline. Nothing waits 25 s, and a busy machine cannot make the answer early or late.
import XCTest
import Foundation
import WireLoop
@testable import WireServer

final class LongPollVirtualTimeTests: XCTestCase {
    /// Parks GET /longpoll?`query` on a server with a manual clock, then checks the empty answer
    /// comes at exactly `expected` seconds of virtual time and not a millisecond before.
    private func assertTimesOut(_ query: String, after expected: Double, selector: SelectorKind,
                                file: StaticString = #filePath, line: UInt = #line) throws {
        let clock = ManualClock()
        let s = try TestServer(selector: selector) { $0.clock = clock }
        s.server.feed.publish(topic: .tick, data: "before")      // latest = 1; the wait is for id 2
        let c = try RawClient(port: s.port)
        let name = "vt-\(selector)-\(abs(query.hashValue) % 100_000)"
        c.send("GET /longpoll?\(query)&client=\(name) HTTP/1.1\r\nHost: t\r\n\r\n")
        // Parked once the server counted the request (real time: the socket needs it).
        let parked = try s.waitForStats(client: name) { ($0["requests"] as? Int) == 1 }
        XCTAssertEqual(parked["requests"] as? Int, 1, "the long poll reached the server", file: file, line: line)

        clock.advance(seconds: expected - 0.001)
        XCTAssertFalse(c.hasInput(withinMillis: 200), "\(query): answered before \(expected) s", file: file, line: line)
        clock.advance(seconds: 0.001)
        let r = try XCTUnwrap(c.readResponse(), "\(query): no answer at \(expected) s", file: file, line: line)
        XCTAssertEqual(r.head.status, 200, file: file, line: line)
        XCTAssertEqual(String(decoding: r.body, as: UTF8.self), #"{"events":[],"next":1,"missed":0}"#, file: file, line: line)
    }

    func testDefaultTimeoutIs25Seconds() throws {
        for kind in [SelectorKind.epoll, .poll] { try assertTimesOut("since=1", after: 25, selector: kind) }
    }

    func testTimeoutAbove120IsClampedTo120() throws {
        for kind in [SelectorKind.epoll, .poll] { try assertTimesOut("since=1&timeout=500", after: 120, selector: kind) }
    }

    func testTimeoutIsHonouredToTheSecond() throws {
        try assertTimesOut("since=1&timeout=3", after: 3, selector: .epoll)
        try assertTimesOut("timeout=7", after: 7, selector: .poll)      // no since: waits after the latest
    }

    /// An event before the deadline answers at once, and the cancelled timer does not answer
    /// the next request on the same connection when its time comes.
    func testAnEventAnswersBeforeTheTimeoutAndTheTimerIsCancelled() throws {
        let clock = ManualClock()
        let s = try TestServer { $0.clock = clock }
        let c = try RawClient(port: s.port)
        c.send("GET /longpoll?since=0&timeout=10&client=vt-cancel HTTP/1.1\r\nHost: t\r\n\r\n")
        try s.waitForStats(client: "vt-cancel") { ($0["requests"] as? Int) == 1 }
        clock.advance(seconds: 4)
        s.server.feed.publish(topic: .chat, data: "at 4 s")
        let first = try XCTUnwrap(c.readResponse())
        XCTAssertTrue(String(decoding: first.body, as: UTF8.self).contains(#""data":"at 4 s""#))
        c.send("GET /longpoll?since=1&timeout=20&client=vt-cancel HTTP/1.1\r\nHost: t\r\n\r\n")
        try s.waitForStats(client: "vt-cancel") { ($0["requests"] as? Int) == 2 }
        clock.advance(seconds: 6)       // t = 10 s: the first request's deadline, long answered
        XCTAssertFalse(c.hasInput(withinMillis: 200), "a cancelled timer answered the second long poll")
        clock.advance(seconds: 14)      // t = 24 s = 4 + 20
        let second = try XCTUnwrap(c.readResponse())
        XCTAssertEqual(String(decoding: second.body, as: UTF8.self), #"{"events":[],"next":1,"missed":0}"#)
    }
}
