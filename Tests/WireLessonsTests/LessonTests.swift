import XCTest
import Foundation
@testable import WireLessons
@testable import WireMeasure

/// The course is complete: every lesson has its folder, walkthrough and a scenario race accepts.
final class LessonCatalogTests: XCTestCase {
    func testEveryLessonHasAWalkthroughAndAScenarioRaceAccepts() throws {
        XCTAssertEqual(LessonCatalog.all.map { $0.number }, Array(1...8))
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

    func testNoticesAreComputedFromTheNumbers() {
        // Two fabricated results that differ only in latency must give different sentences.
        func run(latencyMicros: Int64) -> LessonRun {
            var settings = RaceSettings()
            settings.transports = [.poll]
            settings.rate = 5
            var histogram = LatencyHistogram()
            for _ in 0..<10 { histogram.record(latencyMicros) }
            var totals = ClientCounts()
            totals.requests = 10; totals.bytesUp = 1300; totals.bytesDown = 3000
            let t = TransportResult(transport: .poll, clients: 1, events: 50, missed: 0, duplicates: 0,
                                    histogram: histogram, totals: totals, connectMillis: 1, perClient: [])
            let result = RaceResult(settings: settings, server: "in-process", clock: "", firstID: 1, lastID: 50,
                                    elapsed: 10, startedAtMicros: 0, endedAtMicros: 0, results: [t], serverCheck: nil)
            return LessonRun(label: "", result: result, predictions: [:])
        }
        let lesson = LessonCatalog.lesson(1)!
        let slow = lesson.notice([run(latencyMicros: 500_000)])
        let fast = lesson.notice([run(latencyMicros: 250_000)])
        XCTAssertNotEqual(slow, fast)
        XCTAssertTrue(slow[0].contains("500 ms"), slow[0])
        XCTAssertTrue(fast[0].contains("250 ms"), fast[0])
    }
}

/// The model against itself: the rules it states in its comments.
final class TransportModelTests: XCTestCase {
    let base = ModelInputs(rate: 5, size: 64, pollInterval: 1, rtt: 0.0001, duration: 10)

    func testShortPollingLatencyIsHalfTheInterval() {
        let p = TransportModel.predict(.poll, base)
        XCTAssertEqual(p.latencyMeanMs, 500, accuracy: 1)
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
        m.duration = 1e9   // make the handshake vanish
        m.size = 125 - 52
        XCTAssertEqual(TransportModel.predict(.ws, m).bytesPerEvent, 2 + 125, accuracy: 0.01)
        m.size = 126 - 52
        XCTAssertEqual(TransportModel.predict(.ws, m).bytesPerEvent, 4 + 126, accuracy: 0.01)
        m.size = 65_536 - 52
        XCTAssertEqual(TransportModel.predict(.ws, m).bytesPerEvent, 10 + 65_536, accuracy: 0.01)
    }
}

/// The model against a real race on loopback, within the bounds it claims.
final class ModelAgainstRaceTests: XCTestCase {
    func testModelPredictsBytesPerEventAndPollingLatencyOfARealRace() throws {
        var settings = RaceSettings()
        settings.rate = 5
        settings.duration = 4
        settings.pollInterval = 0.5
        let result = try Race(settings: settings).run()
        let inputs = ModelInputs(rate: 5, size: 64, pollInterval: 0.5, rtt: 0.0001, duration: 4)
        for t in RaceTransport.four {
            let measured = try XCTUnwrap(result.result(t)?.bytesPerEvent, t.rawValue)
            let predicted = TransportModel.predict(ModelTransport(rawValue: t.rawValue)!, inputs).bytesPerEvent
            // Headers vary by a few bytes (Content-Length digits, ids); 20 % is the stated bound.
            XCTAssertEqual(measured / predicted, 1, accuracy: 0.2, "\(t.rawValue): measured \(measured), model \(predicted)")
        }
        // The latency figures of this scenario (short polling ≈ half the interval, push far
        // below it) need a quiet machine: Tests/Bench/timing.py checks them in `make bench`.
    }
}
