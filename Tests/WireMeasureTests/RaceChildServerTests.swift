// Race's child-server path (PROTOCOL.md §4: "as a child `wirelab serve` where the open-file limit
// needs it"): forced with a threshold of 0, so it runs with two clients instead of 4,000.
import XCTest
import Foundation
@testable import WireMeasure

final class RaceChildServerTests: XCTestCase {
    /// The `wirelab` executable `swift build` put next to this test bundle.
    private func wirelabExecutable() throws -> String {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [here.appendingPathComponent("wirelab").path,
                          here.deletingLastPathComponent().appendingPathComponent("wirelab").path] {
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        XCTFail("no wirelab executable next to \(here.path): run swift build --build-tests first")
        throw RaceError("no wirelab executable")
    }

    func testRaceRunsAgainstAChildServeProcessAndCountsAgree() throws {
        var s = RaceSettings()
        s.transports = [.poll, .sse, .ws]
        s.duration = 1
        s.rate = 20
        s.size = 37         // not the default 64: the child must have been given it
        s.pollInterval = 0.25
        s.childServerThreshold = 0
        s.serverExecutable = try wirelabExecutable()
        let result = try Race(settings: s).run()
        XCTAssertEqual(result.server, "child process")
        // The child's generator runs on a grid of 1/rate s and catches up after stalls under 1 s
        // (TickGenerator), so it publishes rate × elapsed ± 1 events: the bounds are loose enough
        // for a loaded machine and still tell --rate 20 from 10 or 40.
        let expected = s.rate * result.elapsed
        XCTAssertGreaterThanOrEqual(Double(result.published), 0.75 * expected - 1, "the child generated events at --rate 20 (\(result.elapsed) s)")
        XCTAssertLessThanOrEqual(Double(result.published), 1.25 * expected + 2, "the child generated events at --rate 20 (\(result.elapsed) s)")
        // --size reached the child: each WebSocket message is the event's JSON, 54 bytes + the
        // digits of the id + the data (PROTOCOL.md §1). The client got every id of the run once,
        // and, subscribed live a moment before the start, maybe the last few ids before it.
        let ws = try XCTUnwrap(result.result(.ws))
        let before = ws.totals.eventMessages - (result.lastID - result.firstID + 1)
        XCTAssertTrue((0...3).contains(before), "\(ws.totals.eventMessages) messages for ids \(result.firstID)...\(result.lastID)")
        let ids = (result.firstID - max(0, before))...result.lastID
        let jsonBytes = ids.reduce(0) { $0 + 54 + String($1).count + s.size }
        XCTAssertEqual(ws.totals.payloadDown, jsonBytes, "ws payload of ids \(ids) at --size 37")
        for t in [RaceTransport.sse, .ws] {
            let r = try XCTUnwrap(result.result(t))
            XCTAssertEqual(r.events, Double(result.published), "\(t)")
            XCTAssertEqual(r.missed, 0, "\(t)")
        }
        XCTAssertEqual(result.serverCheck?.agrees, true, "\(result.serverCheck?.differences ?? [])")
    }
}
