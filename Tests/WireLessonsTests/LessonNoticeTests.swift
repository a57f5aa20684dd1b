// Every sentence earned (finding 11): each lesson's rules are fed two contrasting results, and
// the text must follow the numbers — a claim made for one must not be made for the other.
import XCTest
@testable import WireLessons
@testable import WireMeasure

final class LessonNoticeTests: XCTestCase {
    struct Fake {
        var transport: RaceTransport
        var clients = 1
        var latencyMs: [Double] = [0.3]
        var events = 20.0
        var requests = 1
        var connections = 1
        var empty = 0
        var missed = 0.0
        var payload = 2400, headers = 0, handshake = 0, framing = 40, heartbeats = 0, tcpip = 2000
    }

    static func run(_ fakes: [Fake], label: String = "", clients: Int = 1, rate: Double = 2, pollInterval: Double = 1) -> LessonRun {
        var settings = RaceSettings()
        settings.transports = fakes.map(\.transport)
        settings.rate = rate
        settings.clients = clients
        settings.pollInterval = pollInterval
        let results = fakes.map { f -> TransportResult in
            var c = ClientCounts()
            c.requests = f.requests; c.connections = f.connections; c.emptyResponses = f.empty
            c.payloadDown = f.payload; c.headersDown = f.headers; c.handshakeDown = f.handshake; c.heartbeatDown = f.heartbeats
            c.bytesDown = f.payload + f.headers + f.handshake + f.framing + f.heartbeats
            c.headerBytesDown = f.tcpip
            var h = LatencyHistogram()
            for l in f.latencyMs { h.record(Int64(l * 1000)) }
            let per = f.latencyMs.enumerated().map { i, l in
                ClientReport(name: "race-\(f.transport.rawValue)-\(i + 1)", counts: ClientCounts(), events: Int(f.events), missed: Int(f.missed),
                             duplicates: 0, failure: nil, latencyMeanMs: l)
            }
            return TransportResult(transport: f.transport, clients: f.clients, events: f.events, missed: f.missed, duplicates: 0,
                                   histogram: h, totals: c, connectMillis: 1, perClient: per)
        }
        let r = RaceResult(settings: settings, server: "in-process", clock: "", firstID: 1, lastID: 20, elapsed: 10,
                           startedAtMicros: 0, endedAtMicros: 0, results: results, serverCheck: nil)
        return LessonRun(label: label, result: r, predictions: [:])
    }

    func text(_ lesson: Int, _ runs: [LessonRun]) -> String {
        LessonCatalog.lesson(lesson)!.sentences(runs).joined(separator: "\n")
    }

    func testLesson1EmptyAnswersAndHeadersFollowTheNumbers() {
        let busy = text(1, [Self.run([Fake(transport: .poll, latencyMs: [480], events: 50, requests: 10, empty: 0, payload: 6000, headers: 2300)], rate: 5)])
        let quiet = text(1, [Self.run([Fake(transport: .poll, latencyMs: [130], events: 2, requests: 10, empty: 8, payload: 240, headers: 2300)], rate: 0.2)])
        XCTAssertTrue(busy.contains("none came back empty"), busy)
        XCTAssertFalse(quiet.contains("none came back empty"), quiet)
        XCTAssertTrue(quiet.contains("were empty"), quiet)
        XCTAssertTrue(quiet.contains("the heads, not the events"), quiet)
        XCTAssertFalse(busy.contains("the heads, not the events"), busy)
        // Finding 8: a phase-locked run is explained as such, not held to ±500/rate.
        XCTAssertTrue(quiet.contains("every event of a run waits the same phase"), quiet)
        XCTAssertFalse(busy.contains("every event of a run waits the same phase"), busy)
    }

    func testLesson2SaysFasterOnlyWhenItWas() {
        let faster = text(2, [Self.run([Fake(transport: .poll, latencyMs: [500], requests: 10), Fake(transport: .longpoll, latencyMs: [0.4], requests: 21)])])
        let slower = text(2, [Self.run([Fake(transport: .poll, latencyMs: [0.2], requests: 10), Fake(transport: .longpoll, latencyMs: [0.4], requests: 12)])])
        XCTAssertTrue(faster.contains("slower, because its events wait for the timer"), faster)
        XCTAssertTrue(slower.contains("was not faster this time"), slower)
        XCTAssertFalse(slower.contains("slower, because"), slower)
        XCTAssertTrue(slower.contains("shared an answer"), slower)
        XCTAssertFalse(faster.contains("shared an answer"), faster)
    }

    func testLesson3SaysResumedOnlyWhenSomethingWasResumed() {
        let dropped = text(3, [Self.run([Fake(transport: .sse, connections: 2, missed: 0), Fake(transport: .poll, requests: 10)])])
        let whole = text(3, [Self.run([Fake(transport: .sse, connections: 1), Fake(transport: .poll, requests: 10)])])
        let lost = text(3, [Self.run([Fake(transport: .sse, connections: 2, missed: 3), Fake(transport: .poll, requests: 10)])])
        XCTAssertTrue(dropped.contains("resumed with Last-Event-ID"), dropped)
        XCTAssertFalse(whole.contains("resumed with"), whole)
        XCTAssertTrue(whole.contains("never dropped"), whole)
        XCTAssertTrue(lost.contains("3 events were missed"), lost)
        XCTAssertFalse(lost.contains("nothing was missed"), lost)
        // Heartbeats: claimed only when the ledger has them.
        let hb = text(3, [Self.run([Fake(transport: .sse, heartbeats: 110)], rate: 0.2)])
        XCTAssertTrue(hb.contains("heartbeat comments"), hb)
        XCTAssertTrue(whole.contains("No heartbeat"), whole)
    }

    func testLesson4ComparesLatencyAgainstTheSpread() {
        let same = text(4, [Self.run([Fake(transport: .ws, latencyMs: [0.30, 0.35, 0.32]), Fake(transport: .sse, latencyMs: [0.31, 0.36, 0.33], framing: 660)])])
        let apart = text(4, [Self.run([Fake(transport: .ws, latencyMs: [0.30, 0.31, 0.30]), Fake(transport: .sse, latencyMs: [0.90, 0.91, 0.92], framing: 660)])])
        XCTAssertTrue(same.contains("the same within the spread"), same)
        XCTAssertTrue(apart.contains("WebSocket was faster"), apart)
        XCTAssertFalse(apart.contains("the same within the spread"), apart)
        XCTAssertTrue(apart.contains("parsing chunks and text fields costs"), apart)
        let sseFirst = text(4, [Self.run([Fake(transport: .ws, latencyMs: [0.90, 0.91, 0.92]), Fake(transport: .sse, latencyMs: [0.30, 0.31, 0.30], framing: 660)])])
        XCTAssertTrue(sseFirst.contains("SSE was faster"), sseFirst)
        XCTAssertFalse(sseFirst.contains("parsing chunks and text fields costs"), sseFirst)
        let pinged = text(4, [Self.run([Fake(transport: .ws, heartbeats: 16)])])
        XCTAssertTrue(pinged.contains("The server pinged"), pinged)
        XCTAssertTrue(same.contains("No ping"), same)
    }

    func testLesson5RankingMentionsTheFlipOnlyWhenTCPChangesIt() {
        // Payload: poll 300 < ws 400; wire: ws 500 < poll 700 (poll's segments weigh on few events).
        let flips = text(5, [Self.run([Fake(transport: .poll, events: 10, requests: 5, payload: 1200, headers: 1700, framing: 100, tcpip: 4000),
                                       Fake(transport: .ws, events: 10, payload: 1200, handshake: 2700, framing: 100, tcpip: 1000)], label: "10 events/s")])
        let stays = text(5, [Self.run([Fake(transport: .poll, events: 10, requests: 5, payload: 1200, headers: 1700, framing: 100, tcpip: 500),
                                       Fake(transport: .ws, events: 10, payload: 1200, handshake: 2700, framing: 100, tcpip: 1000)], label: "10 events/s")])
        XCTAssertTrue(flips.contains("the order changes"), flips)
        XCTAssertTrue(flips.contains("opening and closing segments"), flips)
        XCTAssertFalse(flips.contains("a poll answer carries several events"), flips)
        // Payload: ws 300 < poll 400; wire: poll 500 < ws 700 (poll batches, ws pays per event).
        let batches = text(5, [Self.run([Fake(transport: .poll, events: 10, requests: 5, payload: 1200, headers: 2700, framing: 100, tcpip: 1000),
                                         Fake(transport: .ws, events: 10, payload: 1200, handshake: 1700, framing: 100, tcpip: 4000)], label: "100 events/s")])
        XCTAssertTrue(batches.contains("a poll answer carries several events"), batches)
        XCTAssertTrue(stays.contains("the order stays the same"), stays)
    }

    func testLesson7CallsGrowthLinearOnlyWhenALineFits() {
        func crowd(_ latencies: [Double]) -> String {
            let ns = [1, 10, 100, 1000]
            let runs = zip(ns, latencies).map { n, l in
                Self.run([Fake(transport: .poll, requests: 10 * n), Fake(transport: .sse, latencyMs: [l * 1.1]), Fake(transport: .ws, latencyMs: [l])],
                         label: "\(n) clients", clients: n)
            }
            return text(7, runs)
        }
        let linear = crowd([0.2, 0.29, 1.2, 10.2])
        let curved = crowd([0.2, 5, 6, 7])
        XCTAssertTrue(linear.contains("about linear"), linear)
        XCTAssertFalse(curved.contains("about linear"), curved)
        XCTAssertTrue(curved.contains("not a straight line"), curved)
        XCTAssertTrue(linear.contains("within 25 %"), linear)
        // Lesson 7's reference run: the last tenfold cost twice as much per client as the one
        // before, though a line through all four points has R² ≈ 1.
        let steeper = crowd([0.2, 0.32, 1.3, 22])
        XCTAssertFalse(steeper.contains("about linear"), steeper)
        XCTAssertTrue(steeper.contains("faster than linear"), steeper)
        let unfair = text(7, [Self.run([Fake(transport: .sse, latencyMs: [8.8]), Fake(transport: .ws, latencyMs: [4.5])], label: "1000 clients", clients: 1000)])
        XCTAssertTrue(unfair.contains("SSE was 2.0× slower"), unfair)
    }

    func testLesson8SaysVanishOnlyWhenTheOverheadIsSmall() {
        let big = text(8, [Self.run([Fake(transport: .poll, payload: 600_000, headers: 2300, framing: 300), Fake(transport: .ws, payload: 600_000, framing: 100)], label: "65536 B of data")])
        let small = text(8, [Self.run([Fake(transport: .poll, payload: 1400, headers: 2300, framing: 300), Fake(transport: .ws, payload: 1400, framing: 40)], label: "16 B of data")])
        XCTAssertTrue(big.contains("they vanish"), big)
        XCTAssertTrue(small.contains("have not vanished"), small)
    }
}
