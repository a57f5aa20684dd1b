// PROTOCOL.md §8 --transports auto: the ladder ws ▶ sse ▶ longpoll ▶ poll, decided without
// sockets. Times are plain nanosecond numbers.
import XCTest
@testable import WireMeasure

final class AutoNegotiationTests: XCTestCase {
    let ms: Int64 = 1_000_000

    func testStartsOnWebSocket() {
        let n = AutoNegotiation()
        XCTAssertEqual(n.current, .ws)
        XCTAssertEqual(n.pathText, "ws")
    }

    func testAnHTTPErrorMovesOneRungDown() {
        // A proxy that strips Upgrade: the server answers 426, not 101.
        var n = AutoNegotiation()
        XCTAssertEqual(n.httpFailed(), .fallBack(to: .sse))
        XCTAssertEqual(n.pathText, "ws>sse")
    }

    func testTheWholeLadderThenGiveUp() {
        var n = AutoNegotiation()
        XCTAssertEqual(n.httpFailed(), .fallBack(to: .sse))
        XCTAssertEqual(n.httpFailed(), .fallBack(to: .longpoll))
        XCTAssertEqual(n.httpFailed(), .fallBack(to: .poll))
        XCTAssertEqual(n.httpFailed(), .giveUp)
        XCTAssertEqual(n.pathText, "ws>sse>longpoll>poll")
    }

    func testAConnectionKilledSoonAfterOpeningBeforeAnEventFailsTheStep() {
        // A box that resets the WebSocket 200 ms after the 101.
        var n = AutoNegotiation(fallbackAfterNanos: 1000 * ms)
        XCTAssertEqual(n.dropped(openedAt: 5000 * ms, delivered: 0, now: 5200 * ms), .fallBack(to: .sse))
    }

    func testADropAfterAnEventIsAHiccupNotAVerdict() {
        var n = AutoNegotiation(fallbackAfterNanos: 1000 * ms)
        XCTAssertEqual(n.dropped(openedAt: 5000 * ms, delivered: 1, now: 5200 * ms), .reconnect)
        XCTAssertEqual(n.current, .ws)
    }

    func testADropAfterFallbackAfterIsAHiccup() {
        var n = AutoNegotiation(fallbackAfterNanos: 1000 * ms)
        XCTAssertEqual(n.dropped(openedAt: 5000 * ms, delivered: 0, now: 6000 * ms), .reconnect)
        XCTAssertEqual(n.dropped(openedAt: 5000 * ms, delivered: 0, now: 5999 * ms), .fallBack(to: .sse))
    }

    func testAFailedTCPConnectSaysNothingAboutTheTransport() {
        var n = AutoNegotiation()
        XCTAssertEqual(n.dropped(openedAt: nil, delivered: 0, now: 1), .reconnect)
        XCTAssertEqual(n.pathText, "ws")
    }

    func testOnTheLastRungDropsReconnect() {
        var n = AutoNegotiation(fallbackAfterNanos: 1000 * ms)
        for _ in 0..<3 { _ = n.httpFailed() }
        XCTAssertEqual(n.current, .poll)
        XCTAssertEqual(n.dropped(openedAt: 0, delivered: 0, now: 10 * ms), .reconnect)
    }
}
