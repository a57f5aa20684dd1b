// The race's setup (PROTOCOL.md §5). A race that drives its server's generator holds it at
// rate 0 while the clients connect (RaceSettings.quietWhileConnecting). A stream subscribes before the run
// starts, so without that an event published during a slow setup reaches it: its bytes count in
// the run, the event does not, and bytes per event come out too high (lesson 5's check failed
// that way on a loaded machine). The setup is made slow on purpose here: the progress callback
// holds the race's own thread for 0.3 s while the loop thread connects and subscribes.
// And the setup is a bounded wait: a client whose answer never comes fails after
// RaceSettings.setupTimeout, and the race goes on with the others.
import XCTest
import Foundation
@testable import WireMeasure
import WireServer
import WireLoop

final class RaceSetupTests: XCTestCase {
    private let rate = 200.0
    private let clients = 4

    private func startServer(rate: Double) throws -> Server {
        var config = ServerConfig()
        config.host = "127.0.0.1"
        config.port = 0
        config.rate = rate
        let server = Server(config: config)
        try server.start()
        return server
    }

    private func race(quiet: Bool) throws -> RaceResult {
        let server = try startServer(rate: rate)
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

    /// A race against `server` whose clients go to `silent`, a listening socket nobody answers
    /// on, with a setup timeout of 1 s; failures are reported, not thrown.
    private func settingsForUnansweredClients(server: Server, silent: Int32) -> RaceSettings {
        var s = RaceSettings()
        s.url = "http://127.0.0.1:\(server.port)"
        s.clientURL = "http://127.0.0.1:\(Socket.localPort(silent))"
        s.setupTimeout = 1
        s.keepGoingAfterFailures = true
        s.pauseGeneratorAtEnd = true
        return s
    }

    /// The clients are sent to a socket that accepts and reads but never answers (a middlebox
    /// holding every head back); the server itself is real. Each client fails with the reason
    /// after the setup timeout and the race still reports, instead of waiting for ever.
    func testAClientWithoutAnAnswerFailsAfterTheSetupTimeout() throws {
        let server = try startServer(rate: 20)
        defer { server.shutdown(grace: 0.2) }
        let silent = try Socket.listen(host: "127.0.0.1", port: 0, reusePort: false)
        defer { _ = Socket.closeFD(silent) }
        var s = settingsForUnansweredClients(server: server, silent: silent)
        s.transports = [.sse, .ws]
        s.duration = 0.3
        s.quietWhileConnecting = true
        let started = Date()
        let result = try Race(settings: s).run()
        let took = Date().timeIntervalSince(started)
        XCTAssertGreaterThan(took, 1, "the clients got their full second")
        XCTAssertLessThan(took, 10, "the race did not wait for ever")
        for t in [RaceTransport.sse, .ws] {
            let r = try XCTUnwrap(result.result(t))
            XCTAssertEqual(r.failures.count, 1, "\(t)")
            XCTAssertTrue(r.failures.first?.contains("no answer within 1.0 s") ?? false, "\(t): \(r.failures)")
        }
        // Without keepGoingAfterFailures the same setup is an error, with the reason.
        s.keepGoingAfterFailures = false
        XCTAssertThrowsError(try Race(settings: s).run()) { error in
            XCTAssertTrue("\(error)".contains("no answer within 1.0 s"), "\(error)")
        }
    }

    /// More clients than may connect at once, and none answered: at the deadline the clients
    /// still waiting their turn fail too, and none of them connects after it (a failure counts
    /// as ready, so without the stop the scheduler would start the very clients just failed).
    /// The silent listener never accepts, so its backlog holds every connection ever made.
    func testClientsStillWaitingTheirTurnAtTheDeadlineFailWithoutConnecting() throws {
        let server = try startServer(rate: 20)
        defer { server.shutdown(grace: 0.2) }
        let silent = try Socket.listen(host: "127.0.0.1", port: 0, reusePort: false)
        defer { _ = Socket.closeFD(silent) }
        var s = settingsForUnansweredClients(server: server, silent: silent)
        s.transports = [.sse]
        s.clients = 6
        s.maxConcurrentConnects = 2
        s.duration = 0.2
        let result = try Race(settings: s).run()
        let r = try XCTUnwrap(result.result(.sse))
        XCTAssertEqual(r.failures.count, 6, "every client failed: \(r.failures)")
        XCTAssertTrue(r.failures.allSatisfy { $0.contains("no answer within") }, "\(r.failures)")
        usleep(100_000)   // any connect the race started has reached the backlog by now
        var connections = 0
        while let (fd, _) = Socket.accept(silent) { connections += 1; _ = Socket.closeFD(fd) }
        XCTAssertEqual(connections, 2, "only the two clients whose turn came connected")
    }
}
