// A dropped SSE stream is reopened with Last-Event-ID and the server replays what was missed;
// counts stay exact across the reconnection.
import XCTest
@testable import WireMeasure
import WireServer

final class RaceReconnectTests: XCTestCase {
    /// A 2 s race of one streaming transport against our own server, which drops every stream of
    /// that transport 0.8 s in, as a lost network would.
    private func raceWithDrop(_ transport: RaceTransport, dropping serverTransport: Transport) throws -> (RaceResult, TransportResult) {
        var config = ServerConfig()
        config.host = "127.0.0.1"
        config.port = 0
        config.rate = 20
        let server = Server(config: config)
        try server.start()
        defer { server.shutdown(grace: 0.2) }
        var settings = RaceSettings()
        settings.url = "http://127.0.0.1:\(server.port)"
        settings.transports = [transport]
        settings.duration = 2
        settings.pauseGeneratorAtEnd = true
        var dropped = false
        let result = try Race(settings: settings).run { p in
            if p.phase == .running && p.elapsed >= 0.8 && !dropped {
                dropped = true
                server.dropStreams(of: serverTransport)
            }
        }
        XCTAssertTrue(dropped)
        return (result, try XCTUnwrap(result.result(transport)))
    }

    /// The stream is reopened (a second connection and request) and nothing is missed or
    /// doubled; race's counts still equal the server's.
    private func assertResumedCleanly(_ result: RaceResult, _ t: TransportResult) {
        XCTAssertEqual(t.connections, 2)
        XCTAssertEqual(t.requests, 2)
        XCTAssertEqual(t.missed, 0)
        XCTAssertEqual(t.duplicates, 0)
        XCTAssertEqual(t.events, Double(result.published))
        XCTAssertEqual(result.serverCheck?.agrees, true, "\(result.serverCheck?.differences ?? [])")
    }

    func testDroppedSSEStreamResumesWithLastEventID() throws {
        let (result, sse) = try raceWithDrop(.sse, dropping: .sse)
        assertResumedCleanly(result, sse)
    }

    func testDroppedWebSocketReconnectsWithSinceAndMissesNothing() throws {
        let (result, ws) = try raceWithDrop(.ws, dropping: .ws)
        assertResumedCleanly(result, ws)
    }
}
