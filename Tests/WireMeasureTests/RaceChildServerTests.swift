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
        s.pollInterval = 0.25
        s.childServerThreshold = 0
        s.serverExecutable = try wirelabExecutable()
        let result = try Race(settings: s).run()
        XCTAssertEqual(result.server, "child process")
        XCTAssertGreaterThan(result.published, 5, "the child generated events at --rate 20")
        for t in [RaceTransport.sse, .ws] {
            let r = try XCTUnwrap(result.result(t))
            XCTAssertEqual(r.events, Double(result.published), "\(t)")
            XCTAssertEqual(r.missed, 0, "\(t)")
        }
        XCTAssertEqual(result.serverCheck?.agrees, true, "\(result.serverCheck?.differences ?? [])")
    }
}
