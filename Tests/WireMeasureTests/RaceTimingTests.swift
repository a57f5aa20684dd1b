// The issue's own scenario: --rate 5 --poll-interval 1 --duration 10, all four transports in
// one race. The assertions are about counts, with the tolerances the issue gives.
import XCTest
@testable import WireMeasure

final class RaceTimingTests: XCTestCase {
    func testRate5Interval1Duration10() throws {
        var settings = RaceSettings()
        settings.rate = 5
        settings.pollInterval = 1
        settings.duration = 10
        let result = try Race(settings: settings).run()
        XCTAssertEqual(result.server, "in-process")
        XCTAssertGreaterThanOrEqual(result.published, 45)

        // Short polling: one request per interval (10 ± 1), mean latency about half the
        // interval (500 ms ± 25 %).
        let poll = try XCTUnwrap(result.result(.poll))
        XCTAssertTrue((9...11).contains(poll.requests), "poll requests: \(poll.requests)")
        let pollMean = try XCTUnwrap(poll.latency).mean
        XCTAssertEqual(pollMean, 500, accuracy: 125, "poll mean latency \(pollMean) ms")
        XCTAssertEqual(poll.connections, 1)

        // SSE and WebSocket: one request each, nothing missed.
        for t in [RaceTransport.sse, .ws] {
            let r = try XCTUnwrap(result.result(t))
            XCTAssertEqual(r.requests, 1, "\(t)")
            XCTAssertEqual(r.missed, 0, "\(t)")
            XCTAssertEqual(r.duplicates, 0, "\(t)")
            XCTAssertEqual(r.events, Double(result.published), "\(t)")
        }

        // Long polling: about one request per event.
        let lp = try XCTUnwrap(result.result(.longpoll))
        XCTAssertGreaterThanOrEqual(Double(lp.requests), 0.5 * lp.events, "longpoll requests \(lp.requests) for \(lp.events) events")
        XCTAssertLessThanOrEqual(Double(lp.requests), 1.5 * lp.events, "longpoll requests \(lp.requests) for \(lp.events) events")
        XCTAssertEqual(lp.missed, 0)
        XCTAssertEqual(result.serverCheck?.agrees, true, "\(result.serverCheck?.differences ?? [])")
    }
}
