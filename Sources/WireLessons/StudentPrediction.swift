// `wirelab lesson N --predict`: the student writes down a number before the run, and sees after
// it how far off they were — next to how far off the model was. Guessing first is the point:
// a number you committed to is a number you will compare.
//
// The question is data, not code: Lessons/NN-slug/predict.json says what to ask, which run and
// which row of the results hold the answer, and which column (PROTOCOL.md §5 names) it is:
//
//     {"question": "Long polling at {rate} events/s for {duration} s: how many requests?",
//      "unit": "requests", "run": 0, "row": {"transport": "longpoll"}, "value": "requests"}
//
// `value` may add columns ("bytes_up + bytes_down") and `per` divide by one ("messages");
// `{rate}`, `{size}`, `{duration}`, `{clients}`, `{poll_interval}`, `{label}`, `{messages}` and
// `{message_size}` are filled from the lesson's scenario, so the question follows its settings.
import Foundation
import WireMeasure

public struct PredictionQuestion {
    public var question: String
    public var unit: String
    /// Which of the lesson's runs holds the answer: 0 the first, -1 the last.
    public var run: Int
    /// Which row of that run's results: every key must match (e.g. transport, method).
    public var row: [String: String]
    /// Columns added together; dotted names reach inside objects ("latency_ms.mean").
    public var value: [String]
    /// A column to divide by, if any.
    public var per: String?

    public init(json data: Data) throws {
        guard let o = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              let q = o["question"] as? String, let unit = o["unit"] as? String,
              let row = o["row"] as? [String: String], let value = o["value"] as? String else {
            throw LessonError("predict.json needs \"question\", \"unit\", \"row\" (an object of strings) and \"value\"")
        }
        question = q
        self.unit = unit
        run = o["run"] as? Int ?? -1
        self.row = row
        self.value = value.split(separator: "+").map { $0.trimmingCharacters(in: .whitespaces) }
        per = o["per"] as? String
    }

    /// Lessons/NN-slug/predict.json.
    public static func load(for lesson: Lesson) throws -> PredictionQuestion {
        guard let dir = LessonFiles.directory() else { throw LessonError("cannot find the Lessons/ folder") }
        let path = dir + "/" + lesson.folder + "/predict.json"
        guard let data = FileManager.default.contents(atPath: path) else { throw LessonError("cannot read \(path)") }
        do { return try PredictionQuestion(json: data) } catch { throw LessonError("\(path): \(error)") }
    }

    /// The index of the run the answer comes from, among `count` runs.
    public func runIndex(of count: Int) -> Int? {
        let i = run < 0 ? count + run : run
        return (0..<count).contains(i) ? i : nil
    }

    /// The question with the scenario's settings filled in (the run the answer comes from).
    public func text(for scenario: LessonScenario) -> String {
        let runs = scenario.runs()
        let chosen: (label: String, settings: RaceSettings) = runIndex(of: runs.count).map { runs[$0] } ?? ("", scenario.base)
        let s = chosen.settings
        let fills: [(String, String)] = [
            ("{rate}", plain(s.rate)), ("{size}", String(s.size)), ("{duration}", plain(s.duration)),
            ("{clients}", String(s.clients)), ("{poll_interval}", plain(s.pollInterval)), ("{label}", chosen.label),
            ("{messages}", String(scenario.talkBackMessages)), ("{message_size}", String(scenario.talkBackSize)),
        ]
        return fills.reduce(question) { $0.replacingOccurrences(of: $1.0, with: $1.1) }
    }

    /// A setting as the scenario writes it: 2, 0.25.
    func plain(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(v) }

    /// What the lesson measured for this question, and where it came from.
    public func measured(in results: LessonResults) -> (value: Double, source: String)? {
        var rows: [[String: Any]] = []
        var label = ""
        if !results.runs.isEmpty {
            guard let i = runIndex(of: results.runs.count) else { return nil }
            let run = results.runs[i]
            label = run.label
            rows = Self.rows(RaceReport.json(run.result))
        } else {
            rows = Self.rows(results.json)
        }
        guard let r = rows.first(where: matches), let v = figure(in: r) else { return nil }
        let what = row.keys.sorted().map { row[$0]! }.joined(separator: " ")
        let sum = value.joined(separator: " + ")
        let column = per.map { "(\(sum)) / \($0)" } ?? sum
        return (v, "\(what): \(column)" + (label.isEmpty ? "" : ", at \(label)"))
    }

    /// The model's figure for the same thing, when the model has one (race transports).
    public func model(in results: LessonResults) -> Double? {
        guard let i = runIndex(of: results.runs.count), let name = row["transport"],
              let t = RaceTransport(rawValue: name), let p = results.runs[i].predictions[t], per == nil else { return nil }
        switch value {
        case ["bytes_per_event"]: return p.bytesPerEvent
        case ["latency_ms.mean"]: return p.latencyMeanMs
        case ["requests"]: return p.requests
        case ["empty_responses"]: return p.emptyResponses
        default: return nil
        }
    }

    func matches(_ r: [String: Any]) -> Bool {
        row.allSatisfy { key, wanted in r[key].map { "\($0)" } == wanted }
    }

    func figure(in r: [String: Any]) -> Double? {
        var sum = 0.0
        for column in value {
            guard let v = Self.number(r, column) else { return nil }
            sum += v
        }
        guard let per = per else { return sum }
        guard let d = Self.number(r, per), d != 0 else { return nil }
        return sum / d
    }

    /// The "results" rows of a race report or of lesson 6's table.
    static func rows(_ json: String) -> [[String: Any]] {
        guard let o = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any] else { return [] }
        return o["results"] as? [[String: Any]] ?? []
    }

    static func number(_ r: [String: Any], _ path: String) -> Double? {
        var current: Any? = r
        for part in path.split(separator: ".") { current = (current as? [String: Any])?[String(part)] }
        return (current as? NSNumber)?.doubleValue
    }
}

/// Asking for the number, and saying how far off it was. Pure: input and output are closures.
public enum PredictionPrompt {
    /// Asks on a terminal; says so and returns nil when stdin is not one, at EOF, or on an empty
    /// line. Three tries for something that reads as a number ("1,200", "350 B", "0.4 ms").
    public static func ask(_ question: String, unit: String, isTerminal: Bool,
                           readLine: () -> String?, say: (String) -> Void) -> Double? {
        guard isTerminal else {
            say("(stdin is not a terminal, so no prediction is asked; the lesson goes on. `--predict VALUE` gives one on the command line.)")
            return nil
        }
        for _ in 0..<3 {
            say("Your prediction, in \(unit) (Enter to skip):")
            guard let line = readLine() else {
                say("(end of input: going on without a prediction)")
                return nil
            }
            if line.trimmingCharacters(in: .whitespaces).isEmpty { say("(skipped)"); return nil }
            if let v = parseNumber(line) { return v }
            say("'\(line)' is not a number; type digits, e.g. 400.")
        }
        say("(going on without a prediction)")
        return nil
    }

    /// The leading number of what a person types: "1,200 B" → 1200, "0.4ms" → 0.4, "-3" → -3.
    public static func parseNumber(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: ",", with: "")
        let numeric = trimmed.prefix { $0.isNumber || $0 == "." || $0 == "-" || $0 == "+" || $0 == "e" || $0 == "E" }
        let rest = trimmed.dropFirst(numeric.count).trimmingCharacters(in: .whitespaces)
        guard let v = Double(numeric), v.isFinite, rest.allSatisfy({ $0.isLetter || $0 == "/" || $0 == "µ" }) else { return nil }
        return v
    }

    /// The block printed after the run.
    public static func report(question: String, unit: String, guess: Double?, measured: Double,
                              model: Double?, source: String) -> [String] {
        var lines = ["── Your prediction against the measurement ──", question]
        func row(_ name: String, _ v: Double, _ note: String) -> String {
            let figure = format(v, unit)
            return "  " + name.padding(toLength: 10, withPad: " ", startingAt: 0)
                + figure + String(repeating: " ", count: max(1, 14 - figure.count)) + note
        }
        if let g = guess { lines.append(row("you", g, offBy(g, measured, unit))) }
        lines.append(row("measured", measured, "(\(source))"))
        if let m = model { lines.append(row("model", m, offBy(m, measured, unit) + "  (Sources/WireLessons/TransportModel.swift)")) }
        switch (guess, model) {
        case (let g?, let m?):
            let you = abs(g - measured), it = abs(m - measured)
            lines.append(you < it ? "You were closer than the model." : you > it ? "The model was closer than you were." : "You and the model were equally close.")
        case (nil, _):
            lines.append("No prediction this time: try `--predict VALUE` before you look at the table.")
        default:
            lines.append("The model has no figure for this one (where the lesson printed a ── Prediction ── line, compare with that).")
        }
        return lines
    }

    /// "off by +12 B (+3.1 %)", or "spot on" when the difference rounds to nothing.
    public static func offBy(_ v: Double, _ measured: Double, _ unit: String) -> String {
        let d = v - measured
        let shown = format(abs(d), unit)
        if shown.hasPrefix("0 ") || shown == "0" { return "spot on" }
        let sign = d > 0 ? "+" : "−"
        var text = "off by \(sign)\(shown)"
        if measured != 0 {
            let pct = abs(d / measured * 100)
            text += " (\(sign)\(pct >= 10 ? String(Int(pct.rounded())) : Inspector.round1(pct)) %)"
        }
        return text
    }

    /// A figure with its unit: "412 B", "2.5 B", "214 µs", "801 requests", "20.5 requests".
    public static func format(_ v: Double, _ unit: String) -> String {
        if unit == "ms" {
            // Below a millisecond in µs, as the lesson tables show latencies.
            if abs(v) < 1 { return "\(Int((v * 1000).rounded())) µs" }
            return abs(v) >= 10 ? "\(Int(v.rounded())) ms" : "\(Inspector.round1(v)) ms"
        }
        var n = abs(v) >= 100 ? String(Int(v.rounded())) : Inspector.round1(v)
        if n.hasSuffix(".0") { n.removeLast(2) }
        // "1 request", "2 requests".
        if n == "1" && unit.count > 1 && unit.hasSuffix("s") { return "1 " + unit.dropLast() }
        return n + " " + unit
    }
}
