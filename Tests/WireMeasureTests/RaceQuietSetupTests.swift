// A race that drives its server's generator holds it at rate 0 while the clients connect
// (RaceSettings.quietWhileConnecting, PROTOCOL.md §5). A stream subscribes before the run
// starts, so without that an event published during a slow setup reaches it: its bytes count in
// the run, the event does not, and bytes per event come out too high (lesson 5's check failed
// that way on a loaded machine). The setup is made slow on purpose here: the progress callback
// holds the race's own thread for 0.3 s while the loop thread connects and subscribes.
import XCTest
import Foundation
@testable import WireMeasure
import WireServer

final class RaceQuietSetupTests: XCTestCase {
    private let rate = 200.0
    private let clients = 4

    private func race(quiet: Bool) throws -> RaceResult {
        var config = ServerConfig()
        config.host = "127.0.0.1"
        config.port = 0
        config.rate = rate
        let server = Server(config: config)
        try server.start()
        defer { server.shutdown(grace: 0.2) }
        var s = RaceSettings()
        s.url = "http://127.0.0.1:\(server.port)"
        s.transports = [.sse, .ws]
        s.clients = clients
        s.rate = rate
        s.duration = 0.5
        s.pauseGeneratorAtEnd = true
        s.quietWhileConnecting = quiet
        var slowed = false
        return try Race(settings: s).run { p in
            if p.phase == .connecting, !slowed {
                slowed = true
                usleep(300_000)
            }
        }
    }

    /// Every event message a stream received is one of the run's: none came before the start.
    func testAQuietSetupLetsOnlyTheRunsEventsIntoTheCounts() throws {
        let result = try race(quiet: true)
        XCTAssertGreaterThan(result.published, 20, "the generator ran at its rate during the run")
        for t in [RaceTransport.sse, .ws] {
            let r = try XCTUnwrap(result.result(t))
            XCTAssertEqual(r.missed, 0, "\(t)")
            XCTAssertEqual(r.duplicates, 0, "\(t)")
            XCTAssertEqual(r.events, Double(result.published), "\(t)")
            XCTAssertEqual(r.totals.eventMessages, result.published * clients,
                           "\(t): every message received is one of the run's \(result.published) events")
        }
    }

    /// The control: the same slow setup without holding the generator does let early events in
    /// (60 of them at 200 events/s in 0.3 s), so the test above can see them.
    func testASlowSetupWithTheGeneratorRunningLetsEarlyEventsIn() throws {
        let result = try race(quiet: false)
        for t in [RaceTransport.sse, .ws] {
            let r = try XCTUnwrap(result.result(t))
            XCTAssertGreaterThan(r.totals.eventMessages, result.published * clients + clients * 10,
                                 "\(t): events published while the race waited reached the subscribed streams")
        }
    }
}
