import XCTest
import Foundation
@testable import WireLessons
@testable import WireMeasure

/// The course is complete: every lesson has its folder, walkthrough and a scenario race accepts.
final class LessonCatalogTests: XCTestCase {
    func testEveryLessonHasAWalkthroughAndAScenarioRaceAccepts() throws {
        XCTAssertEqual(LessonCatalog.all.map { $0.number }, Array(1...12))
        let dir = try XCTUnwrap(LessonFiles.directory(), "run from the package folder")
        for lesson in LessonCatalog.all {
            let readme = try String(contentsOfFile: "\(dir)/\(lesson.folder)/README.md", encoding: .utf8)
            XCTAssertTrue(readme.hasPrefix("# Lesson \(lesson.number): "), lesson.folder)
            for section in ["## On the wire", "## Predict first", "## Run it", "## Results from a reference run", "## What to notice", "## Exercises"] {
                XCTAssertTrue(readme.contains(section), "\(lesson.folder) lacks \(section)")
            }
            XCTAssertTrue(readme.contains("<!-- results:start -->") && readme.contains("<!-- results:end -->"))
            let scenario = try LessonFiles.scenario(for: lesson)
            XCTAssertFalse(scenario.runs().isEmpty)
            // `wirelab race --scenario` reads the same file.
            XCTAssertNoThrow(try RaceSettings(scenarioFile: "\(dir)/\(lesson.folder)/scenario.json"), lesson.folder)
        }
    }

    /// "Read the code" points at `LESSON: name` markers; each must stand in the file named.
    func testEveryCodeMarkerALessonCitesExists() throws {
        let dir = try XCTUnwrap(LessonFiles.directory())
        let root = (dir as NSString).deletingLastPathComponent
        var checked = 0
        for lesson in LessonCatalog.all {
            let readme = try String(contentsOfFile: "\(dir)/\(lesson.folder)/README.md", encoding: .utf8)
            for line in readme.split(separator: "\n") where line.hasPrefix("- `LESSON: ") {
                let parts = line.split(separator: "`")
                guard parts.count >= 4 else { continue }
                let marker = String(parts[1]), file = String(parts[3])
                let source = try String(contentsOfFile: "\(root)/\(file)", encoding: .utf8)
                XCTAssertTrue(source.contains("// " + marker), "\(lesson.folder): \(marker) not in \(file)")
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 10)
    }

    func testSweepsExpandIntoOneRunPerValue() throws {
        let lesson = try XCTUnwrap(LessonCatalog.lesson(5))
        let runs = try LessonFiles.scenario(for: lesson).runs()
        XCTAssertEqual(runs.map { $0.settings.rate }, [0.2, 1, 10, 100])
        // A slow rate gets a run long enough to see about five events.
        XCTAssertGreaterThanOrEqual(runs[0].settings.duration * runs[0].settings.rate, 5)
    }
}

/// The model against itself: the rules it states in its comments.
final class TransportModelTests: XCTestCase {
    let base = ModelInputs(rate: 5, size: 64, pollInterval: 1, rtt: 0.0001, duration: 10)

    func testShortPollingLatencyIsHalfTheInterval() {
        let p = TransportModel.predict(.poll, base)
        // 10 s with a poll every second: the first interval is φ + I long, the last 1 − φ, so
        // the mean is I/2 + E[φ²]/(2D) = 500 + 33 ms (TransportModel.pollWait).
        XCTAssertEqual(p.latencyMeanMs, 533, accuracy: 2)
        var long = base
        long.duration = 10_000
        XCTAssertEqual(TransportModel.predict(.poll, long).latencyMeanMs, 500, accuracy: 1)
        XCTAssertEqual(p.requests, 10)
        XCTAssertEqual(p.emptyResponses, 0)
        var slow = base
        slow.rate = 0.5
        XCTAssertEqual(TransportModel.predict(.poll, slow).emptyResponses, 5, accuracy: 0.01)
    }

    func testPushCostsLessPerEventThanPollingAtLowRates() {
        var m = base
        m.rate = 0.5
        let poll = TransportModel.predict(.poll, m).bytesPerEvent
        let ws = TransportModel.predict(.ws, m).bytesPerEvent
        let sse = TransportModel.predict(.sse, m).bytesPerEvent
        XCTAssertLessThan(ws, sse)
        XCTAssertLessThan(sse, poll)
    }

    func testWebSocketFrameHeaderGrowsAtTheRFCBoundaries() {
        var m = base
        m.duration = 100   // 500 events: ids of 1-3 digits
        func framing(_ size: Int) -> Double {
            m.size = size
            let p = TransportModel.predict(.ws, m)
            return p.ledger.first { $0.0 == "framing" }!.1 - m.calibration.wsClosing / m.events
        }
        let digits = m.eventJSON - 54 - Double(m.size)
        XCTAssertEqual(framing(Int(125 - 54 - digits.rounded(.up))), 2, accuracy: 0.01)
        XCTAssertEqual(framing(Int(126 - 54 - digits.rounded(.down))), 4, accuracy: 0.01)
        XCTAssertEqual(framing(65_536), 10, accuracy: 0.01)
    }

    /// Finding 7: the event JSON is 54 bytes + the digits of the id + the data.
    func testEventJSONOverheadIs54PlusDigitsOfTheId() {
        let one = #"{"id":7,"ts":1763771234567123,"topic":"tick","data":""}"#
        XCTAssertEqual(one.utf8.count, 54 + 1)
        XCTAssertEqual(ModelInputs.meanDigits(upTo: 9), 1)
        XCTAssertEqual(ModelInputs.meanDigits(upTo: 99), (9 + 2 * 90) / 99.0, accuracy: 1e-9)
    }

    /// Finding 8: the short-poll bound is ±min(I, 1/r)/2 around I/2, so ±I/2 (anything from 0
    /// to I) when events come less often than polls.
    func testShortPollPhaseBoundWhenEventsAreRarerThanPolls() {
        var m = base
        m.rate = 0.2
        let p = TransportModel.predict(.poll, m)
        XCTAssertGreaterThanOrEqual(p.latency.bound, 500)
        XCTAssertTrue(p.latency.holds(53))       // the phase-locked run of the issue
        m.rate = 5
        XCTAssertLessThan(TransportModel.predict(.poll, m).latency.bound, 200)
    }
}

