// The 408 for a slow request head (PROTOCOL.md §3: 10 s from the first byte of that request)
// checked at virtual time through a real server: its loops run on a ManualClock, so the worker's
// housekeeping sweep sees the deadline pass when the test moves the clock, not when a busy
// machine gets round to it. Issue 11 found the old test could only ask for "a 408 in 9–13 s".
import XCTest
import Foundation
import WireLoop
@testable import WireServer

final class HeadTimeoutVirtualTimeTests: XCTestCase {
    /// The sweep runs every 0.25 s of loop time, so the 408 is due between 10 s and 10.25 s.
    private let sweepPeriod = 0.25

    func testSecondHeadGets408TenSecondsAfterTheFirstRequestWasTaken() throws {
        for kind in [SelectorKind.epoll, .poll] {
            let clock = ManualClock()
            let s = try TestServer(selector: kind) { $0.clock = clock }
            let c = try RawClient(port: s.port)
            clock.advance(seconds: 6)
            // Sent after the advance, so read at 6 s: the second head's 10 s run to 16 s, not to
            // 10 s (from the opening) — the rule that lets a client pipeline for longer than 10 s.
            c.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\nGET /heal")
            let first = try XCTUnwrap(c.readResponse(), "\(kind): no answer to the whole request")
            XCTAssertEqual(first.head.status, 200, "\(kind)")

            clock.advance(seconds: 9.999)
            XCTAssertFalse(c.hasInput(withinMillis: 200), "\(kind): 408 before 10 s from the first request")
            clock.advance(seconds: 0.001 + sweepPeriod)
            let r = try XCTUnwrap(c.readResponse(), "\(kind): no 408 at 10 s (+ one sweep) from the first request")
            XCTAssertEqual(r.head.status, 408, "\(kind)")
        }
    }
}
