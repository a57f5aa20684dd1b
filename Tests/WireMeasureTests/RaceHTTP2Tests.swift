// `race --http 2` (PROTOCOL.md §11, the columns of §5): every transport's client counts equal the server's
// /stats to the byte, the connections' stream-0 bytes equal /stats "http2", and socket bytes are
// exactly streams + stream 0; `--share` carries one client of every transport on one connection.
import XCTest
import Foundation
@testable import WireMeasure
import WireServer
import WireLoop

final class RaceHTTP2Tests: XCTestCase {
    func startServer(rate: Double) throws -> Server {
        var config = ServerConfig()
        config.host = "127.0.0.1"
        config.port = 0
        config.rate = rate
        let server = Server(config: config)
        try server.start()
        return server
    }

    func stats(_ port: Int) throws -> [String: Any] {
        let control = ControlChannel(endpoint: RaceEndpoint(host: "127.0.0.1", port: port))
        let answer = try control.get("/stats")
        return try JSONSerialization.jsonObject(with: Data(answer.body)) as! [String: Any]
    }

    func race(_ server: Server, share: Bool, clients: Int) throws -> RaceResult {
        var settings = RaceSettings()
        settings.url = "http://127.0.0.1:\(server.port)"
        settings.duration = 1.5
        settings.clients = clients
        settings.pollInterval = 0.25
        settings.http = .http2
        settings.share = share
        settings.pauseGeneratorAtEnd = true
        return try Race(settings: settings).run()
    }

    func assertAccounting(_ result: RaceResult, clients: Int, connections: Int, port: Int) throws {
        XCTAssertEqual(result.serverCheck?.agrees, true, "\(result.serverCheck?.differences ?? [])")
        let h = try XCTUnwrap(result.http2)
        XCTAssertEqual(h.connections, connections)
        XCTAssertEqual(h.unaccounted, 0)
        // The socket total is the transports' bytes plus the connections' own.
        let streams = result.results.reduce(0) { $0 + $1.bytesUp + $1.bytesDown }
        XCTAssertEqual(h.socketBytesUp + h.socketBytesDown, streams + h.bytesUp + h.bytesDown)
        // Each connection sent the 24-byte preface and a SETTINGS frame (9-byte header) at least.
        XCTAssertGreaterThanOrEqual(h.bytesUp, connections * (24 + 9))
        // /stats: the http2 object is this race's (a fresh server), transports keep four keys.
        let s = try stats(port)
        let http2 = try XCTUnwrap(s["http2"] as? [String: Any])
        XCTAssertEqual((http2["connections"] as? NSNumber)?.intValue, connections)
        XCTAssertEqual((http2["bytes_in"] as? NSNumber)?.intValue, h.bytesUp)
        XCTAssertEqual((http2["bytes_out"] as? NSNumber)?.intValue, h.bytesDown)
        XCTAssertEqual(Set((s["transports"] as? [String: Any] ?? [:]).keys), ["poll", "longpoll", "sse", "ws"])
        for t in RaceTransport.four {
            let r = try XCTUnwrap(result.result(t))
            XCTAssertEqual(r.perClient.count, clients)
            XCTAssertEqual(r.missed, 0, "\(t)")
            XCTAssertGreaterThan(r.events, 0, "\(t)")
            for c in r.perClient { XCTAssertNil(c.failure, c.name); XCTAssertEqual(c.counts.connections, 1, c.name) }
        }
        // SSE and WebSocket: one stream each per client; polls one stream per question.
        XCTAssertEqual(result.result(.sse)?.requests, clients)
        XCTAssertEqual(result.result(.ws)?.requests, clients)
        XCTAssertGreaterThan(result.result(.longpoll)?.requests ?? 0, clients)
    }

    func testEachClientIsOneConnectionAndCountsAgreeWithStats() throws {
        let server = try startServer(rate: 20)
        defer { server.shutdown(grace: 0.2) }
        let result = try race(server, share: false, clients: 2)
        try assertAccounting(result, clients: 2, connections: 8, port: server.port)
    }

    func testShareCarriesEveryTransportOnOneConnection() throws {
        let server = try startServer(rate: 20)
        defer { server.shutdown(grace: 0.2) }
        let result = try race(server, share: true, clients: 2)
        try assertAccounting(result, clients: 2, connections: 2, port: server.port)
    }

    func testHTTP2SettingsAreValidatedAndInScenarios() throws {
        var s = RaceSettings()
        s.share = true
        XCTAssertThrowsError(try s.validate())          // --share needs --http 2
        s.http = .http2
        XCTAssertNoThrow(try s.validate())
        s.transports = [.auto]
        XCTAssertThrowsError(try s.validate())          // auto negotiates HTTP/1.1 transports
        let parsed = try RaceSettings(scenario: Data(#"{"http":"2","share":true}"#.utf8))
        XCTAssertEqual(parsed.http, .http2)
        XCTAssertTrue(parsed.share)
        XCTAssertThrowsError(try RaceSettings(scenario: Data(#"{"http":"3"}"#.utf8)))
    }

    /// PROTOCOL.md §8 over HTTP/2: the server drops the connections carrying SSE 0.8 s in
    /// (with --share: every transport's); each client reopens its connection after the policy's
    /// delay and resumes (Last-Event-ID, since=), missing nothing; counts still equal /stats.
    func testDroppedConnectionsResumeOverHTTP2() throws {
        for share in [false, true] {
            let server = try startServer(rate: 20)
            defer { server.shutdown(grace: 0.2) }
            var settings = RaceSettings()
            settings.url = "http://127.0.0.1:\(server.port)"
            settings.duration = 2
            settings.pollInterval = 0.25
            settings.http = .http2
            settings.share = share
            settings.pauseGeneratorAtEnd = true
            var dropped = false
            let result = try Race(settings: settings).run { p in
                if p.phase == .running && p.elapsed >= 0.8 && !dropped {
                    dropped = true
                    server.dropStreams(of: .sse)
                }
            }
            XCTAssertTrue(dropped)
            XCTAssertEqual(result.serverCheck?.agrees, true, "share \(share): \(result.serverCheck?.differences ?? [])")
            let sse = try XCTUnwrap(result.result(.sse))
            XCTAssertEqual(sse.connections, 2, "share \(share)")
            XCTAssertEqual(sse.requests, 2)
            XCTAssertGreaterThanOrEqual(sse.reconnects, 1)
            for t in RaceTransport.four {
                let r = try XCTUnwrap(result.result(t))
                XCTAssertEqual(r.missed, 0, "\(t) share \(share)")
                XCTAssertEqual(r.duplicates, 0, "\(t) share \(share)")
                // With --share the dropped connection carried every transport.
                XCTAssertEqual(r.connections, share || t == .sse ? 2 : 1, "\(t) share \(share)")
            }
            XCTAssertEqual(result.http2?.connections, share ? 2 : 5)
        }
    }
}
