// The model against every lesson's own scenario (issue 8, "Model v2"): each scenario run short
// (1.5 s, polls every ≤ 0.25 s, crowds capped at 40), the model calibrated once on this machine,
// and every predicted latency and bytes-per-event held to the measurement within the bound the
// model prints. A shared machine can stall a run: a latency outside its bound is measured once
// or twice more, each time after calibrating again, before it counts as a failure.
import XCTest
@testable import WireLessons
@testable import WireMeasure
import WireServer

final class LessonScenarioModelTests: XCTestCase {
    func testEveryLessonScenarioHoldsToTheModelWithinItsBounds() throws {
        let calibration = try ModelCalibration.measure(size: 64, headers: .minimal, crowd: true) {
            try LessonRunner.startServer(rate: $0, size: 64)
        }
        let rtt = LessonRunner.measureRTT()
        var checked = 0
        for lesson in LessonCatalog.all {
            let scenario = try LessonFiles.scenario(for: lesson)
            // Lessons of named network variants (9–11) are held in NetworkLessonTests.swift.
            if scenario.talkBack || !scenario.variants.isEmpty { continue }
            for (label, full) in scenario.runs() {
                var s = full
                s.duration = 1.5
                s.pollInterval = min(s.pollInterval, 0.25)
                s.clients = min(s.clients, 40)
                if s.rate * s.duration < 3 { s.rate = 3 / s.duration }   // a handful of events at least
                var c = calibration
                if s.size != 64 { c = try ModelCalibration.measure(size: s.size, headers: .minimal, crowd: false) { try LessonRunner.startServer(rate: $0, size: s.size) } }
                let what = "lesson \(lesson.number) \(label)"
                var attempt = 0
                while true {
                    attempt += 1
                    let result = try LessonRunner.measure(scenario, s)
                    let run = LessonRun(label: label, result: result, predictions: [:])
                    var latencyMisses: [String] = []
                    for t in s.transports {
                        let p = TransportModel.predict(ModelTransport(rawValue: t.rawValue)!, LessonRunner.inputs(s, rtt: rtt, scenario: scenario, c))
                        if let b = run.bytesPerEvent(t) {
                            XCTAssertTrue(p.bytes.holds(b), "\(what) \(t.rawValue): \(b) B/event against \(p.bytes) \(p.ledger) calibration \(c)")
                            checked += 1
                        }
                        if let w = run.wireBytesPerEvent(t) {
                            XCTAssertTrue(p.wireBytes.holds(w), "\(what) \(t.rawValue): \(w) wire B/event against \(p.wireBytes)")
                        }
                        if let l = run.latencyMedian(t), !p.latency.holds(l) {
                            latencyMisses.append("\(t.rawValue): \(l) ms against \(p.latency)")
                        }
                    }
                    if latencyMisses.isEmpty { break }
                    if attempt >= 3 { XCTFail("\(what): latency outside the bound three times: \(latencyMisses)"); break }
                    // A lesson calibrates at its own start; here the calibration may be minutes old
                    // and the machine busier now (two make test runs beside make bench pushed a
                    // 0.5 ms push latency to 2 ms three times running). Measure it again, as the
                    // lesson would, before the next try.
                    c = try ModelCalibration.measure(size: s.size, headers: .minimal, crowd: s.size == 64) {
                        try LessonRunner.startServer(rate: $0, size: s.size)
                    }
                }
            }
        }
        XCTAssertGreaterThan(checked, 30)
    }
}
