// What `make tables` does with a lesson's runs (issue 11: the lesson machinery never ran in a
// test): LessonTables.results builds the Markdown, CSV, JSON and SVG charts, LessonTables.write
// puts them in results/ and replaces only the README's block between the markers. And lesson 6's
// talk-back (TalkBack), whose byte counts the RFC fixes: a masked client frame of n ≤ 125 bytes
// is n + 6 bytes, the server's unmasked echo n + 2 (RFC 6455 §5.2).
import XCTest
import Foundation
import WireMeasure
import WireLoop
@testable import WireLessons

final class LessonTablesTests: XCTestCase {
    private func temporaryDirectory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wirelab-tables-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    func testWriteGivesEveryFileAndReplacesOnlyTheREADMEBlock() throws {
        let lesson = try XCTUnwrap(LessonCatalog.lesson(1))
        // A sweep of two rates, two transports each: two runs, four CSV rows, line charts.
        let runs = [2.0, 8.0].map { rate in
            LessonNoticeTests.run([.init(transport: .poll, latencyMs: [500, 400]), .init(transport: .sse, latencyMs: [0.3, 0.4])],
                                  label: "rate \(Int(rate))", clients: 2, rate: rate)
        }
        let results = LessonTables.results(lesson, runs, sweep: "rate")
        XCTAssertEqual(results.charts.map(\.name), ["bytes-per-event", "latency", "latency-distribution"])

        let dir = try temporaryDirectory()
        let readme = dir + "/" + lesson.folder + "/README.md"
        try FileManager.default.createDirectory(atPath: dir + "/" + lesson.folder, withIntermediateDirectories: true)
        let before = "# Lesson\n\nText above.\n<!-- results:start -->\nOLD TABLE\n<!-- results:end -->\nText below.\n"
        try before.write(toFile: readme, atomically: true, encoding: .utf8)

        try LessonTables.write(lesson, results, directory: dir, stamp: "STAMP-42")

        let base = dir + "/results/" + lesson.folder
        let md = try String(contentsOfFile: base + ".md", encoding: .utf8)
        XCTAssertTrue(md.hasPrefix("# Lesson 1: \(lesson.title) — results\n\n_STAMP-42_\n"), md)
        for chart in results.charts {
            XCTAssertTrue(md.contains("![\(chart.name)](\(lesson.folder)-\(chart.name).svg)"), "\(chart.name) not linked")
            let svg = try String(contentsOfFile: dir + "/results/\(lesson.folder)-\(chart.name).svg", encoding: .utf8)
            XCTAssertEqual(svg, chart.svg, "the file holds the chart")
            XCTAssertTrue(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>\n"), String(svg.prefix(80)))
        }
        // SVGChart: one line per transport on each line chart, one bar per transport and percentile.
        let bytesChart = try XCTUnwrap(results.charts.first { $0.name == "bytes-per-event" }).svg
        XCTAssertEqual(bytesChart.components(separatedBy: "<polyline").count - 1, 2, "a line per transport")
        XCTAssertTrue(bytesChart.contains(">poll<") && bytesChart.contains(">sse<"), "the legend names both")

        let csv = try String(contentsOfFile: base + ".csv", encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertTrue(csv[0].hasPrefix("run,transport,"), csv[0])
        XCTAssertEqual(csv.dropFirst().map { String($0.prefix { $0 != "," }) + "," + ($0.split(separator: ",")[1]) },
                       ["\"rate 2\",poll", "\"rate 2\",sse", "\"rate 8\",poll", "\"rate 8\",sse"])

        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: base + ".json"))) as? [String: Any])
        XCTAssertEqual(json["lesson"] as? Int, 1)
        XCTAssertEqual((json["runs"] as? [[String: Any]])?.map { $0["run"] as? String }, ["rate 2", "rate 8"])

        let after = try String(contentsOfFile: readme, encoding: .utf8)
        XCTAssertTrue(after.hasPrefix("# Lesson\n\nText above.\n<!-- results:start -->\n"), after)
        XCTAssertTrue(after.hasSuffix("<!-- results:end -->\nText below.\n"), after)
        XCTAssertFalse(after.contains("OLD TABLE"), "the old block is replaced")
        XCTAssertTrue(after.contains("_STAMP-42_"))
        XCTAssertTrue(after.contains("](../results/\(lesson.folder)-latency.svg)"), "charts linked from the README's folder")
        XCTAssertEqual(after.components(separatedBy: "<!-- results:start -->").count, 2, "one block, not two")
    }

    func testTalkBackCountsTheFrameBytesRFC6455Fixes() throws {
        let lesson = try XCTUnwrap(LessonCatalog.lesson(6))
        var scenario = LessonScenario(base: RaceSettings())
        scenario.talkBack = true
        scenario.talkBackMessages = 5
        scenario.talkBackSize = 64
        var said: [String] = []
        var options = LessonOptions()
        options.out = { said.append($0) }
        let results = try TalkBack.run(lesson, scenario: scenario, options: options)
        let rows = results.csv.split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
        XCTAssertEqual(rows.first, ["method", "messages", "bytes_up", "bytes_down", "round_trip_ms_mean"])
        let ws = try XCTUnwrap(rows.first { $0.first == "WebSocket /echo" })
        XCTAssertEqual(Array(ws[1...3]), ["5", "\(5 * (64 + 6))", "\(5 * (64 + 2))"], "2 B header + 4 B mask up, 2 B header back")
        let post = try XCTUnwrap(rows.first { $0.first == "POST /publish" })
        XCTAssertEqual(post[1], "5")
        XCTAssertGreaterThan(Int(post[2]) ?? 0, 5 * 64, "each POST carries the message and a head")
        XCTAssertTrue(said.contains { $0.contains("Each client frame carried 6 B of header and masking key") }, said.joined(separator: "\n"))
        XCTAssertEqual(results.notice.count, 3)
    }

    /// `make tables` is `wirelab lesson --tables` on every lesson; here on lesson 6 alone, in a
    /// copy of its folder (WIRELAB_LESSONS) with 5 messages: the command writes results/ and the
    /// README block from its own run.
    func testLessonTablesCommandWritesResultsAndTheREADMEBlock() throws {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let binary = try XCTUnwrap([bundle, bundle.deletingLastPathComponent()].map { $0.appendingPathComponent("wirelab").path }
            .first { FileManager.default.isExecutableFile(atPath: $0) }, "run swift build --build-tests first")
        let lesson = try XCTUnwrap(LessonCatalog.lesson(6))
        let dir = try temporaryDirectory()
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir + "/01-short-polling", withIntermediateDirectories: true)
        try "{}".write(toFile: dir + "/01-short-polling/scenario.json", atomically: true, encoding: .utf8)   // marks the folder
        try fm.createDirectory(atPath: dir + "/" + lesson.folder, withIntermediateDirectories: true)
        try #"{"title":"t","transports":"ws","duration":1,"rate":0,"size":64,"clients":1,"poll_interval":1,"lesson":{"talk_back":{"messages":5,"size":64}}}"#
            .write(toFile: dir + "/\(lesson.folder)/scenario.json", atomically: true, encoding: .utf8)
        try "above\n<!-- results:start -->\nOLD\n<!-- results:end -->\nbelow\n".write(toFile: dir + "/\(lesson.folder)/README.md", atomically: true, encoding: .utf8)

        var env = ProcessInfo.processInfo.environment
        env["WIRELAB_LESSONS"] = dir
        let r = try ChildProcess.run(binary, ["lesson", "6", "--tables"], environment: env)
        XCTAssertFalse(r.timedOut)
        XCTAssertEqual(r.status, 0, String(decoding: r.stderr, as: UTF8.self))
        XCTAssertTrue(String(decoding: r.stdout, as: UTF8.self).contains("wrote Lessons/results/\(lesson.folder).md"))
        let csv = try String(contentsOfFile: dir + "/results/\(lesson.folder).csv", encoding: .utf8)
        XCTAssertTrue(csv.contains("\nWebSocket /echo,5,350,330,"), csv)
        XCTAssertTrue(fm.fileExists(atPath: dir + "/results/\(lesson.folder).json"))
        let readme = try String(contentsOfFile: dir + "/\(lesson.folder)/README.md", encoding: .utf8)
        XCTAssertTrue(readme.hasPrefix("above\n<!-- results:start -->\n") && readme.hasSuffix("<!-- results:end -->\nbelow\n"), readme)
        XCTAssertFalse(readme.contains("OLD"))
        XCTAssertTrue(readme.contains("| WebSocket /echo | 5 | 70 B | 66 B |"), readme)
    }
}
