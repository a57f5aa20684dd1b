// PROTOCOL.md §5: the race's client-side counts equal the server's /stats?client=... counts, to
// the byte, for every transport.
import XCTest
import Foundation
@testable import WireMeasure
import WireServer
import WireLoop

final class RaceAccountingTests: XCTestCase {
    /// A server of the test's own, so its /stats outlive the race.
    func startServer(rate: Double, selector: SelectorKind = .platformDefault) throws -> Server {
        var config = ServerConfig()
        config.selector = selector
        config.host = "127.0.0.1"
        config.port = 0
        config.rate = rate
        let server = Server(config: config)
        try server.start()
        return server
    }

    func clientStats(_ port: Int, _ name: String) throws -> [String: Int] {
        let control = ControlChannel(endpoint: RaceEndpoint(host: "127.0.0.1", port: port))
        let answer = try control.get("/stats?client=\(name)")
        XCTAssertEqual(answer.status, 200)
        let object = try JSONSerialization.jsonObject(with: Data(answer.body)) as! [String: Any]
        return object.mapValues { ($0 as! NSNumber).intValue }
    }

    /// Once per selector backend of the server (epoll, poll).
    func testClientByteCountsEqualServerStatsForEveryTransport() throws {
        for kind in [SelectorKind.epoll, .poll] { try assertCountsAgree(selector: kind) }
    }

    private func assertCountsAgree(selector: SelectorKind) throws {
        let server = try startServer(rate: 20, selector: selector)
        defer { server.shutdown(grace: 0.2) }
        var settings = RaceSettings()
        settings.url = "http://127.0.0.1:\(server.port)"
        settings.duration = 1.5
        settings.clients = 2
        settings.pollInterval = 0.2
        settings.pauseGeneratorAtEnd = true      // nothing in flight while the clients close
        let result = try Race(settings: settings).run()
        XCTAssertEqual(result.serverCheck?.agrees, true, "\(result.serverCheck?.differences ?? [])")
        for t in RaceTransport.four {
            let r = try XCTUnwrap(result.result(t))
            XCTAssertEqual(r.perClient.count, 2)
            XCTAssertGreaterThan(r.events, 0, "\(t)")
            for c in r.perClient {
                XCTAssertEqual(c.name, "race-\(t.rawValue)-\(c.name.split(separator: "-").last!)")
                XCTAssertNil(c.failure)
                // The server may still be reading the last close: wait (bounded) for the counts.
                var stats = try clientStats(server.port, c.name)
                let deadline = LoopClock.monotonicNanos() + 5_000_000_000
                while (stats["bytes_in"] != c.counts.bytesUp || stats["bytes_out"] != c.counts.bytesDown)
                        && LoopClock.monotonicNanos() < deadline {
                    usleep(5_000)
                    stats = try clientStats(server.port, c.name)
                }
                XCTAssertEqual(stats["bytes_in"], c.counts.bytesUp, "\(c.name) bytes_up (\(selector))")
                XCTAssertEqual(stats["bytes_out"], c.counts.bytesDown, "\(c.name) bytes_down")
                XCTAssertEqual(stats["requests"], c.counts.requests, "\(c.name) requests")
                XCTAssertEqual(stats["connections"], c.counts.connections, "\(c.name) connections")
            }
            // Wire bytes are payload plus headers of at least the handshake's segments.
            XCTAssertGreaterThan(r.wireBytesUp, r.bytesUp + 2 * 52)
            XCTAssertGreaterThan(r.wireBytesDown, r.bytesDown + 2 * 52)
        }
        XCTAssertEqual(result.result(.sse)?.requests, 2)
        XCTAssertEqual(result.result(.ws)?.requests, 2)
        XCTAssertEqual(result.result(.ws)?.missed, 0)
        XCTAssertEqual(result.result(.sse)?.missed, 0)
    }

    func testConnectFailureIsARuntimeError() {
        // A port nothing listens on: bind one, note it, close it.
        let fd = try! Socket.listen(host: "127.0.0.1", port: 0, reusePort: false)
        let port = Socket.localPort(fd)
        Socket.closeFD(fd)
        var settings = RaceSettings()
        settings.url = "http://127.0.0.1:\(port)"
        settings.duration = 0.1
        XCTAssertThrowsError(try Race(settings: settings).run()) { error in
            XCTAssertTrue("\(error)".contains("cannot connect"), "\(error)")
        }
    }
}
