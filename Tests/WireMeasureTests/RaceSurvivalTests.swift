// PROTOCOL.md §8: clients that survive the network. Every transport, with every reconnect
// policy, has its connection dropped again and again; a drop must cost latency, never events:
// missed 0, duplicates 0, out of order 0, and the reconnects counted. Dropped by our own
// server (Server.dropStreams), the counts still equal the server's /stats to the byte.
import XCTest
@testable import WireMeasure
import WireServer

final class RaceSurvivalTests: XCTestCase {
    /// A race of the four transports against our own server, which drops every connection of
    /// every transport each `every` seconds of the run.
    private func raceWithDrops(_ policy: ReconnectKind, every: Double = 0.6, duration: Double = 2.6) throws -> (RaceResult, Int) {
        var config = ServerConfig()
        config.host = "127.0.0.1"
        config.port = 0
        config.rate = 20
        let server = Server(config: config)
        try server.start()
        defer { server.shutdown(grace: 0.2) }
        var settings = RaceSettings()
        settings.url = "http://127.0.0.1:\(server.port)"
        settings.duration = duration
        settings.pollInterval = 0.2
        settings.reconnect = policy
        settings.pauseGeneratorAtEnd = true
        var drops = 0
        let result = try Race(settings: settings).run { p in
            // Not in the last half second: the last drop gets time to be noticed and recovered.
            if p.phase == .running && p.elapsed >= every * Double(drops + 1) && p.elapsed < duration - 0.5 {
                drops += 1
                for t in Transport.allCases { server.dropStreams(of: t) }
            }
        }
        return (result, drops)
    }

    private func assertSurvived(_ result: RaceResult, drops: Int, _ policy: ReconnectKind,
                                file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertGreaterThanOrEqual(drops, 2, file: file, line: line)
        for t in RaceTransport.four {
            let r = try XCTUnwrap(result.result(t), file: file, line: line)
            let what = "\(t.rawValue) with \(policy.rawValue)"
            XCTAssertEqual(r.missed, 0, what, file: file, line: line)
            XCTAssertEqual(r.duplicates, 0, what, file: file, line: line)
            XCTAssertEqual(r.outOfOrder, 0, what, file: file, line: line)
            XCTAssertEqual(r.events, Double(result.published), what, file: file, line: line)
            // Each drop that found the client connected is one reconnect (a short poller between
            // questions may have been caught mid-request and spared; allow one such).
            XCTAssertGreaterThanOrEqual(r.reconnects, drops - 1, what, file: file, line: line)
            XCTAssertEqual(r.connections, 1 + r.reconnects, what, file: file, line: line)
            XCTAssertNotNil(r.reconnectLatency, what, file: file, line: line)
            XCTAssertTrue(r.failures.isEmpty, "\(what): \(r.failures)", file: file, line: line)
        }
        XCTAssertEqual(result.serverCheck?.agrees, true, "\(result.serverCheck?.differences ?? [])", file: file, line: line)
    }

    func testEveryTransportSurvivesDropsReconnectingImmediately() throws {
        let (result, drops) = try raceWithDrops(.immediate)
        try assertSurvived(result, drops: drops, .immediate)
    }

    func testEveryTransportSurvivesDropsWithBackoff() throws {
        let (result, drops) = try raceWithDrops(.backoff)
        try assertSurvived(result, drops: drops, .backoff)
        // Backoff: each outage lasts at least the first backoff (100 ms).
        for t in RaceTransport.four {
            XCTAssertGreaterThanOrEqual(try XCTUnwrap(result.result(t)?.reconnectLatency).p50, 100, t.rawValue)
        }
    }

    func testEveryTransportSurvivesDropsWithJitter() throws {
        let (result, drops) = try raceWithDrops(.jitter)
        try assertSurvived(result, drops: drops, .jitter)
    }

    func testConnectionAttemptsAreBucketedPer100ms() throws {
        let (result, _) = try raceWithDrops(.immediate, every: 0.6, duration: 1.6)
        for t in RaceTransport.four {
            let r = try XCTUnwrap(result.result(t))
            // Attempts during the run: every reconnect (the first connect was before the run).
            XCTAssertEqual(r.connectsPer100ms.reduce(0, +), r.reconnects, t.rawValue)
        }
        let json = RaceReport.json(result)
        XCTAssertTrue(json.contains("\"connects_per_100ms\":["), json)
        XCTAssertTrue(json.contains("\"reconnect_ms\":{\"p50\":"), json)
        XCTAssertTrue(json.contains("\"out_of_order\":0"), json)
    }
}
