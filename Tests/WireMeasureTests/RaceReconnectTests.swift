// A dropped SSE stream is reopened with Last-Event-ID and the server replays what was missed;
// counts stay exact across the reconnection.
import XCTest
@testable import WireMeasure
import WireServer

final class RaceReconnectTests: XCTestCase {
    func testDroppedSSEStreamResumesWithLastEventID() throws {
        var config = ServerConfig()
        config.host = "127.0.0.1"
        config.port = 0
        config.rate = 20
        let server = Server(config: config)
        try server.start()
        defer { server.shutdown(grace: 0.2) }
        var settings = RaceSettings()
        settings.url = "http://127.0.0.1:\(server.port)"
        settings.transports = [.sse]
        settings.duration = 2
        settings.pauseGeneratorAtEnd = true
        var dropped = false
        let result = try Race(settings: settings).run { p in
            if p.phase == .running && p.elapsed >= 0.8 && !dropped {
                dropped = true
                server.dropStreams(of: .sse)
            }
        }
        XCTAssertTrue(dropped)
        let sse = try XCTUnwrap(result.result(.sse))
        XCTAssertEqual(sse.connections, 2)
        XCTAssertEqual(sse.requests, 2)
        XCTAssertEqual(sse.missed, 0)
        XCTAssertEqual(sse.duplicates, 0)
        XCTAssertEqual(sse.events, Double(result.published))
        XCTAssertEqual(result.serverCheck?.agrees, true, "\(result.serverCheck?.differences ?? [])")
    }

    func testDroppedWebSocketReconnectsWithSinceAndMissesNothing() throws {
        var config = ServerConfig()
        config.host = "127.0.0.1"
        config.port = 0
        config.rate = 20
        let server = Server(config: config)
        try server.start()
        defer { server.shutdown(grace: 0.2) }
        var settings = RaceSettings()
        settings.url = "http://127.0.0.1:\(server.port)"
        settings.transports = [.ws]
        settings.duration = 2
        settings.pauseGeneratorAtEnd = true
        var dropped = false
        let result = try Race(settings: settings).run { p in
            if p.phase == .running && p.elapsed >= 0.8 && !dropped {
                dropped = true
                server.dropStreams(of: .ws)
            }
        }
        XCTAssertTrue(dropped)
        let ws = try XCTUnwrap(result.result(.ws))
        XCTAssertEqual(ws.connections, 2)
        XCTAssertEqual(ws.requests, 2)
        XCTAssertEqual(ws.missed, 0)
        XCTAssertEqual(ws.duplicates, 0)
        XCTAssertEqual(ws.events, Double(result.published))
        XCTAssertEqual(result.serverCheck?.agrees, true, "\(result.serverCheck?.differences ?? [])")
    }
}
