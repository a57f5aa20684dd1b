import XCTest
import Foundation
import WireLoop
@testable import WireLessons
@testable import WireMeasure

/// `wirelab lesson N --predict`: every lesson asks a question its own results answer; the prompt
/// never blocks without a terminal; the report says how far off, absolute and relative.
final class StudentPredictionTests: XCTestCase {
    func testEveryLessonAsksAQuestionItsOwnRunsCanAnswer() throws {
        for lesson in LessonCatalog.all {
            let q = try PredictionQuestion.load(for: lesson)
            let scenario = try LessonFiles.scenario(for: lesson)
            let runs = scenario.runs()
            let index = try XCTUnwrap(q.runIndex(of: runs.count), "\(lesson.folder): run \(q.run) of \(runs.count)")
            let text = q.text(for: scenario)
            XCTAssertFalse(text.contains("{"), "\(lesson.folder): unfilled placeholder in \(text)")
            XCTAssertTrue(text.hasSuffix("?"), "\(lesson.folder): a question ends with ?")
            XCTAssertFalse(q.value.isEmpty)
            if let t = q.row["transport"] {
                let transport = try XCTUnwrap(RaceTransport(rawValue: t), lesson.folder)
                XCTAssertTrue(runs[index].settings.transports.contains(transport), "\(lesson.folder) does not race \(t)")
                for column in q.value + (q.per.map { [$0] } ?? []) {
                    XCTAssertTrue(["bytes_per_event", "latency_ms.mean", "latency_ms.p50", "requests", "empty_responses",
                                   "events", "bytes_up", "bytes_down", "connections"].contains(column), "\(lesson.folder): \(column)")
                }
            } else {
                XCTAssertEqual(q.row["method"], "POST /publish", lesson.folder)   // lesson 6's table
            }
        }
    }

    func testQuestionFollowsTheScenarioSettings() throws {
        let lesson = try XCTUnwrap(LessonCatalog.lesson(5))
        let q = try PredictionQuestion.load(for: lesson)
        var scenario = try LessonFiles.scenario(for: lesson)
        scenario.sweep = ("rate", [0.5, 50])
        XCTAssertTrue(q.text(for: scenario).contains("At 0.5 events/s"), q.text(for: scenario))
    }

    func testPipedStdinIsNotAskedAndSaysSo() {
        var said: [String] = []
        var reads = 0
        let v = PredictionPrompt.ask("How many?", unit: "B", isTerminal: false,
                                     readLine: { reads += 1; return "400" }, say: { said.append($0) })
        XCTAssertNil(v)
        XCTAssertEqual(reads, 0, "a pipe is never read")
        XCTAssertTrue(said.joined().contains("not a terminal"), "\(said)")
    }

    func testPromptRetriesOnTextAndStopsAtEndOfInput() {
        var input = ["lots", "1,200 B"]
        var said: [String] = []
        let v = PredictionPrompt.ask("How many?", unit: "B", isTerminal: true,
                                     readLine: { input.isEmpty ? nil : input.removeFirst() }, say: { said.append($0) })
        XCTAssertEqual(v, 1200)
        XCTAssertTrue(said.contains("'lots' is not a number; type digits, e.g. 400."), "\(said)")

        said = []
        XCTAssertNil(PredictionPrompt.ask("How many?", unit: "B", isTerminal: true, readLine: { nil }, say: { said.append($0) }))
        XCTAssertEqual(said.last, "(end of input: going on without a prediction)")
        XCTAssertNil(PredictionPrompt.ask("How many?", unit: "B", isTerminal: true, readLine: { "" }, say: { _ in }))
    }

    func testNumbersAreReadAsPeopleTypeThem() {
        XCTAssertEqual(PredictionPrompt.parseNumber("400"), 400)
        XCTAssertEqual(PredictionPrompt.parseNumber(" 1,234 B "), 1234)
        XCTAssertEqual(PredictionPrompt.parseNumber("0.4ms"), 0.4)
        XCTAssertEqual(PredictionPrompt.parseNumber("-3"), -3)
        XCTAssertNil(PredictionPrompt.parseNumber("about 400"))
        XCTAssertNil(PredictionPrompt.parseNumber("4 0 0"))
        XCTAssertNil(PredictionPrompt.parseNumber(""))
    }

    func testReportSaysHowFarOffAbsoluteAndRelativeNextToTheModel() {
        XCTAssertEqual(PredictionPrompt.report(question: "How many requests?", unit: "requests", guess: 500,
                                               measured: 801, model: 798, source: "longpoll: requests, at 100 events/s"), [
            "── Your prediction against the measurement ──",
            "How many requests?",
            "  you       500 requests  off by −301 requests (−38 %)",
            "  measured  801 requests  (longpoll: requests, at 100 events/s)",
            "  model     798 requests  off by −3 requests (−0.4 %)  (Sources/WireLessons/TransportModel.swift)",
            "The model was closer than you were.",
        ])
        let lines = PredictionPrompt.report(question: "Q?", unit: "ms", guess: 0.3, measured: 0.25, model: 0.014, source: "ws")
        XCTAssertEqual(lines[2], "  you       300 µs        off by +50 µs (+20 %)")
        XCTAssertEqual(lines.last, "You were closer than the model.")
        XCTAssertEqual(PredictionPrompt.offBy(120, 120.02, "B"), "spot on")
        XCTAssertEqual(PredictionPrompt.offBy(20, 21, "requests"), "off by −1 request (−4.8 %)")
        XCTAssertEqual(PredictionPrompt.offBy(120, 120.2, "B"), "off by −0.2 B (−0.2 %)")
        XCTAssertTrue(PredictionPrompt.report(question: "Q?", unit: "B", guess: nil, measured: 1, model: nil, source: "")
            .last!.contains("--predict VALUE"))
    }

    /// Lesson 6's table (no race): the figure is (bytes_up + bytes_down) / messages of the row named.
    func testFigureComesFromTheNamedRowAndColumns() throws {
        let q = try PredictionQuestion(json: Data(#"{"question":"?","unit":"B","row":{"method":"POST /publish"},"value":"bytes_up + bytes_down","per":"messages"}"#.utf8))
        var results = LessonResults()
        results.json = #"{"lesson":6,"results":[{"method":"POST /publish","messages":50,"bytes_up":7950,"bytes_down":7050},{"method":"WebSocket /echo","messages":50,"bytes_up":3500,"bytes_down":3300}]}"#
        let m = try XCTUnwrap(q.measured(in: results))
        XCTAssertEqual(m.value, 300)
        XCTAssertEqual(m.source, "POST /publish: (bytes_up + bytes_down) / messages")
        XCTAssertNil(q.model(in: results), "no model figure for lesson 6")
    }

    /// A real (short) race: the measured figure is the race's own, the model's the lesson's model.
    func testFigureAndModelComeFromARealRun() throws {
        let lesson = try XCTUnwrap(LessonCatalog.lesson(2))
        var settings = try LessonFiles.scenario(for: lesson).base
        settings.duration = 1
        settings.rate = 5
        settings.pauseGeneratorAtEnd = true
        let result = try Race(settings: settings).run()   // its own server, as the lesson's
        let prediction = TransportModel.predict(.longpoll, LessonRunner.inputs(settings, rtt: 100e-6))
        var results = LessonResults()
        results.runs = [LessonRun(label: "", result: result, predictions: [.longpoll: prediction])]
        let q = try PredictionQuestion.load(for: lesson)
        let m = try XCTUnwrap(q.measured(in: results))
        XCTAssertEqual(m.value, Double(try XCTUnwrap(result.result(.longpoll)).requests))
        XCTAssertGreaterThan(m.value, 0)
        XCTAssertEqual(q.model(in: results), prediction.requests)
    }

    // MARK: the command line, with a piped stdin

    func binary() throws -> URL {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for dir in [bundle, URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()] {
            let candidate = dir.appendingPathComponent("wirelab")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw XCTSkip("wirelab binary not built next to the tests")
    }

    func lesson(_ args: [String], stdin: String) throws -> (status: Int32, stdout: String, stderr: String) {
        var env = ProcessInfo.processInfo.environment
        env["WIRELAB_LESSONS"] = try XCTUnwrap(LessonFiles.directory())
        // ChildProcess, not Foundation's Process: see ChildProcess.swift (a missed exit can hang).
        let r = try ChildProcess.run(try binary().path, ["lesson"] + args, input: Array(stdin.utf8), environment: env)
        XCTAssertFalse(r.timedOut, "wirelab lesson \(args) did not exit")
        return (r.status, String(decoding: r.stdout, as: UTF8.self), String(decoding: r.stderr, as: UTF8.self))
    }

    func testPipedStdinGoesOnWithoutAskingAndStillShowsTheAnswer() throws {
        let r = try lesson(["6", "--predict"], stdin: "250\n")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("stdin is not a terminal"), r.stdout)
        XCTAssertFalse(r.stdout.contains("  you "), "a piped 250 is not taken as an answer")
        XCTAssertTrue(r.stdout.contains("  measured  "), r.stdout)
    }

    func testPredictValueOnTheCommandLineIsCompared() throws {
        let r = try lesson(["6", "--predict", "250"], stdin: "")
        XCTAssertEqual(r.status, 0, r.stderr)
        let you = try XCTUnwrap(r.stdout.split(separator: "\n").first { $0.hasPrefix("  you ") }, r.stdout)
        XCTAssertTrue(you.contains("250 B") && you.contains("off by ") && you.contains("%)"), String(you))
        XCTAssertTrue(r.stdout.contains("── Predict first ──"))
    }

    func testPredictUsageErrorsExit2() throws {
        XCTAssertEqual(try lesson(["6", "--predict", "lots"], stdin: "").status, 2)
        XCTAssertEqual(try lesson(["--predict"], stdin: "").status, 2)
        XCTAssertEqual(try lesson(["--tables", "--predict"], stdin: "").status, 2)
    }
}
