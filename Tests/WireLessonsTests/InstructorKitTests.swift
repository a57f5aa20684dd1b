import XCTest
import Foundation
@testable import WireLessons
import WireMeasure

/// The instructor's kit (Lessons/INSTRUCTORS.md) and the answers (Lessons/ANSWERS.md): every lesson
/// is named, planned and answered; no answer is left in a lesson README; every answer says which
/// command checks it; the kit's figures follow the scenarios and the page's scripts.
final class InstructorKitTests: XCTestCase {
    func text(_ relative: String) throws -> String {
        let dir = try XCTUnwrap(LessonFiles.directory(), "run from the package folder")
        return try String(contentsOfFile: dir + "/" + relative, encoding: .utf8)
    }

    /// The Exercises section of a README: everything after its heading.
    func exercises(_ lesson: Lesson) throws -> String {
        let readme = try text(lesson.folder + "/README.md")
        let start = try XCTUnwrap(readme.range(of: "## Exercises"), lesson.folder)
        let rest = readme[start.upperBound...]
        let end = rest.range(of: "\n## ")?.lowerBound ?? rest.endIndex
        return String(rest[..<end])
    }

    /// Numbered items ("1. ..." at the left margin) with their indented continuation lines; a
    /// line at the left margin that is not a new item ends the list item.
    func numberedItems(_ s: String) -> [String] {
        var items: [String] = []
        var open = false
        for line in s.split(separator: "\n", omittingEmptySubsequences: false) {
            if let dot = line.firstIndex(of: "."), dot > line.startIndex, line[..<dot].allSatisfy(\.isNumber),
               line[line.index(after: dot)...].hasPrefix(" ") {
                items.append(String(line))
                open = true
            } else if open && (line.isEmpty || line.hasPrefix(" ")) {
                items[items.count - 1] += "\n" + line
            } else {
                open = false
            }
        }
        return items
    }

    /// ANSWERS.md's section for a lesson: from its anchor to the next.
    func answers(_ lesson: Lesson) throws -> String {
        let all = try text("ANSWERS.md")
        let anchor = "<a id=\"lesson-\(lesson.number)\"></a>"
        let start = try XCTUnwrap(all.range(of: anchor), "ANSWERS.md has no \(anchor)")
        let rest = all[start.upperBound...]
        let end = rest.range(of: "<a id=\"lesson-")?.lowerBound ?? rest.endIndex
        return String(rest[..<end])
    }

    func testEveryLessonHasItsAnswersAndEveryAnswerSaysHowToCheckIt() throws {
        for lesson in LessonCatalog.all {
            let questions = numberedItems(try exercises(lesson))
            XCTAssertGreaterThanOrEqual(questions.count, 2, "\(lesson.folder): exercises")
            let section = try answers(lesson)
            XCTAssertTrue(section.contains("## Lesson \(lesson.number): "), "\(lesson.folder): heading in ANSWERS.md")
            let answered = numberedItems(section)
            XCTAssertEqual(answered.count, questions.count, "\(lesson.folder): one answer per exercise")
            for (k, answer) in answered.enumerated() {
                XCTAssertNotNil(answer.range(of: #"Check:[\s\S]*`(wirelab|make|curl|grep) "#, options: .regularExpression),
                                "\(lesson.folder) answer \(k + 1) names no command that checks it")
            }
        }
    }

    func testNoAnswerIsLeftInTheLessonREADMEs() throws {
        for lesson in LessonCatalog.all {
            let readme = try text(lesson.folder + "/README.md")
            for leftover in ["<details>", "<summary>", "Answer</summary>", "**Answer"] {
                XCTAssertFalse(readme.contains(leftover), "\(lesson.folder) still holds \(leftover)")
            }
            let section = try exercises(lesson)
            XCTAssertTrue(section.contains("(../ANSWERS.md#lesson-\(lesson.number))"), "\(lesson.folder) links its answers")
            for question in numberedItems(section) {
                // A question is one line; an answer would be more.
                XCTAssertFalse(question.trimmingCharacters(in: .whitespacesAndNewlines).contains("\n"),
                               "\(lesson.folder): more than a question in \(question)")
            }
        }
    }

    func testKitNamesEveryLessonAndBothPlans() throws {
        let kit = try text("INSTRUCTORS.md")
        for lesson in LessonCatalog.all {
            let short = lesson.title.components(separatedBy: " — ").first!
            XCTAssertTrue(kit.contains("| Lesson \(lesson.number): \(short) |"), "the kit's table lacks lesson \(lesson.number)")
            XCTAssertTrue(kit.contains("Lesson \(lesson.number): \(short)."), "no plan places lesson \(lesson.number)")
        }
        for must in ["## A 50-minute plan", "## A 90-minute plan", "--host 0.0.0.0", "--allow-origin", "control token",
                     "Authorization: Bearer", "--predict", "ANSWERS.md"] {
            XCTAssertTrue(kit.contains(must), "the kit never says \(must)")
        }
    }

    /// "measured for" in the kit's table is what the scenarios run (durations are settings, not
    /// measurements, so they can be checked exactly).
    func testKitsRunTimesFollowTheScenarios() throws {
        let kit = try text("INSTRUCTORS.md")
        for lesson in LessonCatalog.all {
            let short = lesson.title.components(separatedBy: " — ").first!
            let row = try XCTUnwrap(kit.split(separator: "\n").first { $0.hasPrefix("| Lesson \(lesson.number): \(short) |") })
            let cell = row.split(separator: "|")[1].trimmingCharacters(in: .whitespaces)
            let scenario = try LessonFiles.scenario(for: lesson)
            if lesson.number == 6 {
                XCTAssertEqual(cell, "\(scenario.talkBackMessages) messages each way")
            } else if let seven = scenario.http2 {
                // HTTP2Lesson.swift: each run once per HTTP version, the last rate once more with
                // --share, then the EventSources in Chromium, directly and through nginx.
                // Every race there lasts the scenario's own duration (no sweep stretches it).
                let races = scenario.base.duration * Double(scenario.runs().count * 2 + 1)
                XCTAssertEqual(cell, "\(JSONNumber.text(races)) s + 2 × \(JSONNumber.text(seven.seconds)) s in Chromium",
                               "\(lesson.folder): the kit's 'measured for' cell")
            } else {
                // Each configuration runs `lesson.repeat` times (1 unless the scenario says).
                let dir = try XCTUnwrap(LessonFiles.directory())
                let raw = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(lesson.folder)/scenario.json"))) as? [String: Any]
                let repeats = ((raw?["lesson"] as? [String: Any])?["repeat"] as? Int) ?? 1
                var total = scenario.runs().reduce(0) { $0 + $1.settings.duration } * Double(repeats)
                if scenario.http2 != nil {
                    // Lesson 12 races each rate of its sweep at the scenario's duration over HTTP/1.1
                    // and over HTTP/2, then the last rate once more with --share (HTTP2Lesson.swift).
                    let rates = scenario.sweep?.values.count ?? 1
                    total = Double(rates * RaceHTTPVersion.allCases.count + 1) * scenario.base.duration
                }
                XCTAssertEqual(cell, "\(JSONNumber.text(total)) s", "\(lesson.folder): the kit's 'measured for' cell")
            }
        }
    }

    /// The kit's count of connections a page holds follows the page's transports (classroom.js):
    /// one held per EventSource and per long-poll loop.
    func testKitsConnectionCountFollowsThePageScripts() throws {
        let dir = try XCTUnwrap(LessonFiles.directory())
        let path = (dir as NSString).deletingLastPathComponent + "/Sources/WireServer/Resources/classroom.js"
        let script = try String(contentsOfFile: path, encoding: .utf8)
        let held = script.components(separatedBy: "new EventSource(").count - 1
            + script.components(separatedBy: "class LongPolling").count - 1
        XCTAssertGreaterThan(held, 0)
        XCTAssertTrue(try text("INSTRUCTORS.md").contains("each open classroom page holds **\(held)** of the six"),
                      "the kit's count of held connections is not \(held)")
    }
}
