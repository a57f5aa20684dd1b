// Race's `missed` and `empty_responses` (PROTOCOL.md §5) against a server that generates nothing
// (`rate 0`): the test publishes every event itself, so each expected count is an exact number
// other than 0, and a counter that stays at 0 (or counts too much) fails.
import XCTest
import Foundation
@testable import WireMeasure
@testable import WireServer

final class RaceCountsTests: XCTestCase {
    /// A rate-0 server with one loop thread: work queued on that loop runs with no request handled
    /// in between, so "drop the stream, then publish five" is atomic for every client.
    private func startServer(history: Int) throws -> Server {
        var config = ServerConfig()
        config.host = "127.0.0.1"
        config.port = 0
        config.rate = 0
        config.history = history
        config.loops = 1
        let server = Server(config: config)
        try server.start()
        return server
    }

    private func settings(_ server: Server, _ transports: [RaceTransport], duration: Double) -> RaceSettings {
        var s = RaceSettings()
        s.url = "http://127.0.0.1:\(server.port)"
        s.transports = transports
        s.duration = duration
        s.pauseGeneratorAtEnd = true
        return s
    }

    /// Events 1–3 arrive; the stream is dropped and 4–8 are published at once into a history of
    /// one: 4–7 are evicted before the client can resume, 8 is replayed. Exactly 4 missed.
    private func assertEvictedEventsAreMissed(_ transport: RaceTransport, _ serverTransport: Transport) throws {
        let server = try startServer(history: 1)
        defer { server.shutdown(grace: 0.2) }
        var done = false
        let result = try Race(settings: settings(server, [transport], duration: 1.2)).run { p in
            guard p.phase == .running, p.elapsed >= 0.3, !done else { return }
            done = true
            for _ in 1...3 { server.feed.publish(topic: .chat, data: "before") }
            let worker = server.workers[0]
            // Queued after the three broadcasts, so they are written before the drop.
            worker.loop.execute {
                worker.dropStreams(of: serverTransport)
                for _ in 4...8 { server.feed.publish(topic: .chat, data: "evicted") }
            }
        }
        XCTAssertTrue(done)
        let r = try XCTUnwrap(result.result(transport))
        XCTAssertEqual(result.published, 8)
        XCTAssertEqual(r.events, 4, "\(transport): 1, 2, 3 live and 8 replayed")
        XCTAssertEqual(r.missed, 4, "\(transport): 4...7 were evicted from a history of 1")
        XCTAssertEqual(r.duplicates, 0)
        XCTAssertEqual(r.connections, 2, "\(transport) reconnected once")
    }

    func testSSEDropWithHistoryOneReportsTheEvictedEventsAsMissed() throws {
        try assertEvictedEventsAreMissed(.sse, .sse)
    }

    func testWebSocketDropWithHistoryOneReportsTheEvictedEventsAsMissed() throws {
        try assertEvictedEventsAreMissed(.ws, .ws)
    }

    /// A poll interval shorter than the time between events: every answer but the one that
    /// carries the single event is empty.
    func testPollingFasterThanEventsCountsEmptyResponses() throws {
        let server = try startServer(history: 100)
        defer { server.shutdown(grace: 0.2) }
        var s = settings(server, [.poll], duration: 1.2)
        s.pollInterval = 0.1
        var published = false
        let result = try Race(settings: s).run { p in
            if p.phase == .running, p.elapsed >= 0.5, !published {
                published = true
                server.feed.publish(topic: .chat, data: "the only one")
            }
        }
        XCTAssertTrue(published)
        let poll = try XCTUnwrap(result.result(.poll))
        XCTAssertEqual(result.published, 1)
        XCTAssertEqual(poll.events, 1)
        XCTAssertEqual(poll.missed, 0)
        XCTAssertGreaterThanOrEqual(poll.requests, 3, "polls every 0.1 s for 1.2 s")
        XCTAssertEqual(poll.emptyResponses, poll.requests - 1, "one answer carried the event, the others were empty")
        XCTAssertEqual(result.serverCheck?.agrees, true, "\(result.serverCheck?.differences ?? [])")
    }
}
