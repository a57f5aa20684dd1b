// `--format json` and `csv` use the names of PROTOCOL.md §5.
import XCTest
import Foundation
@testable import WireMeasure

final class RaceReportTests: XCTestCase {
    static var cached: RaceResult?

    /// One short real race, shared by the tests of this class.
    func result() throws -> RaceResult {
        if let r = Self.cached { return r }
        var settings = RaceSettings()
        settings.duration = 0.6
        settings.rate = 10
        settings.pollInterval = 0.2
        let r = try Race(settings: settings).run()
        Self.cached = r
        return r
    }

    static let section5Numbers = ["events", "missed", "duplicates", "requests", "connections", "empty_responses",
                                  "bytes_up", "bytes_down", "wire_bytes_up", "wire_bytes_down", "bytes_per_event"]

    func testJSONHasScenarioAndResultsWithSection5Names() throws {
        let r = try result()
        let text = RaceReport.render(r, as: .json)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let scenario = try XCTUnwrap(object["scenario"] as? [String: Any])
        for key in ["transports", "duration", "rate", "size", "clients", "poll_interval"] {
            XCTAssertNotNil(scenario[key], "scenario.\(key)")
        }
        let results = try XCTUnwrap(object["results"] as? [[String: Any]])
        XCTAssertEqual(results.compactMap { $0["transport"] as? String }, ["poll", "longpoll", "sse", "ws"])
        for row in results {
            for key in Self.section5Numbers {
                XCTAssertTrue(row[key] is NSNumber, "\(row["transport"]!).\(key) is \(String(describing: row[key]))")
            }
            let latency = try XCTUnwrap(row["latency_ms"] as? [String: Any], "latency_ms is an object")
            XCTAssertEqual(Set(latency.keys), ["p50", "p95", "p99", "max", "mean"])
            for (k, v) in latency { XCTAssertTrue(v is NSNumber, "latency_ms.\(k)") }
            let p50 = (latency["p50"] as! NSNumber).doubleValue, p99 = (latency["p99"] as! NSNumber).doubleValue
            XCTAssertLessThanOrEqual(p50, p99)
        }
    }

    func testSection8ColumnsInEveryFormat() throws {
        let r = try result()
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(RaceReport.json(r).utf8)) as? [String: Any])
        let scenario = try XCTUnwrap(object["scenario"] as? [String: Any])
        XCTAssertEqual(scenario["reconnect"] as? String, "jitter")
        XCTAssertTrue(scenario["via"] is NSNull)
        for row in try XCTUnwrap(object["results"] as? [[String: Any]]) {
            let t = row["transport"] as! String
            XCTAssertEqual((row["reconnects"] as? NSNumber)?.intValue, 0, t)
            XCTAssertEqual((row["out_of_order"] as? NSNumber)?.intValue, 0, t)
            XCTAssertTrue(row["reconnect_ms"] is NSNull, "no drop, no reconnect time: \(t)")
            XCTAssertEqual(row["path"] as? String, t)
            XCTAssertTrue(row["first_event_ms"] is NSNumber, t)
            XCTAssertTrue(row["connects_per_100ms"] is [Any], t)
        }
        let header = RaceReport.render(r, as: .csv).split(separator: "\n")[0].split(separator: ",").map(String.init)
        for name in ["reconnects", "reconnect_ms_p50", "reconnect_ms_p99", "out_of_order", "path", "first_event_ms"] {
            XCTAssertTrue(header.contains(name), name)
        }
        let table = RaceReport.render(r, as: .table)
        for column in ["ooo", "reconn", "rc p50 ms", "rc p99 ms"] { XCTAssertTrue(table.contains(column), column) }
        XCTAssertFalse(table.contains("1st event ms"), "path columns only when auto raced")
    }

    func testCSVHeaderHasFlattenedNames() throws {
        let text = RaceReport.render(try result(), as: .csv)
        let lines = text.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 5)
        let header = lines[0].split(separator: ",").map(String.init)
        for name in Self.section5Numbers + ["transport", "latency_ms_p50", "latency_ms_p95", "latency_ms_p99", "latency_ms_max", "latency_ms_mean"] {
            XCTAssertTrue(header.contains(name), name)
        }
        for line in lines.dropFirst() { XCTAssertEqual(line.split(separator: ",", omittingEmptySubsequences: false).count, header.count) }
    }

    func testTableAndMarkdownHaveOneRowPerTransport() throws {
        let r = try result()
        let table = RaceReport.render(r, as: .table)
        let markdown = RaceReport.render(r, as: .markdown)
        let tableLines = table.split(separator: "\n").map(String.init)
        let markdownLines = markdown.split(separator: "\n").map(String.init)
        for t in RaceTransport.four {
            // Exactly one row each: a transport listed twice (or not at all) fails.
            XCTAssertEqual(tableLines.filter { $0.hasPrefix("\(t.rawValue) ") }.count, 1, "table rows for \(t)")
            XCTAssertEqual(markdownLines.filter { $0.hasPrefix("| \(t.rawValue) |") }.count, 1, "markdown rows for \(t)")
        }
        // ... and no other data rows: a header (plus Markdown's separator) and the four transports.
        let tableRows = tableLines.filter { line in RaceTransport.allCases.contains { line.hasPrefix("\($0.rawValue) ") } }
        XCTAssertEqual(tableRows.map { String($0.prefix { $0 != " " }) }, RaceTransport.four.map(\.rawValue))
        let markdownRows = markdownLines.filter { $0.hasPrefix("| ") && !$0.hasPrefix("| transport") && !$0.hasPrefix("| --") && !$0.hasPrefix("|--") }
        XCTAssertEqual(markdownRows.count, RaceTransport.four.count, markdown)
    }
}
