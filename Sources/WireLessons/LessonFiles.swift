// Where the lessons live on disk, and how a lesson's scenario.json becomes race settings.
// A scenario holds `wirelab race` settings (PROTOCOL.md §4 names) plus, under "lesson", what only
// the lesson runner uses: a sweep over one setting, the talk-back exchange of lesson 6, or a list
// of variants (lessons 9–11): named runs that each change a few settings — the network in between
// (`via`: `wirelab proxy` flags, PROTOCOL.md §7), the reconnect policy, the server's heartbeat,
// a real middlebox (`nginx`: "defaults" or "fixed") — and say whether the model predicts them
// (`model`: false for runs whose impairments the model has no term for: a cut, a buffer).
import Foundation
import WireMeasure

/// One named run of a lesson that compares networks (scenario.json "lesson" → "variants").
public struct LessonVariant {
    public var label: String
    /// Overrides of the base settings (nil: keep the base).
    public var via: String?
    public var reconnect: ReconnectKind?
    public var transports: [RaceTransport]?
    public var rate: Double?
    public var duration: Double?
    public var clients: Int?
    /// The lesson server's heartbeat (s) for this run.
    public var heartbeat: Double?
    /// Run through Debian's nginx with this configuration ("defaults" or "fixed"), NginxProxy.swift.
    public var nginx: String?
    /// Whether the model's prediction is printed and held for this run.
    public var model = true
}

public struct LessonScenario {
    public var base: RaceSettings
    /// Setting name ("rate", "clients", "size") and its values, when the lesson sweeps one.
    public var sweep: (name: String, values: [Double])?
    public var talkBackMessages = 50
    public var talkBackSize = 64
    /// The lesson's exchange is lesson 6's talk-back, not a race.
    public var talkBack = false
    /// Times each configuration runs (its table shows median and spread over runs and clients).
    public var repeats = 1
    /// The lesson server's heartbeat (s) and SSE `retry:` (ms).
    public var heartbeat = 15.0
    public var sseRetryMillis: Int?
    /// Lesson 12: HTTP/1.1 against HTTP/2 (HTTP2Lesson.swift), then this many EventSources in
    /// Chromium for `seconds` each way (direct, through nginx).
    public var http2: (streams: Int, seconds: Double)?
    /// Drop every stream of this transport at this fraction of the run (the network "fails").
    public var drop: (transport: RaceTransport, at: Double)?
    /// Named runs, each changing a few settings (lessons 9–11); empty for the others.
    public var variants: [LessonVariant] = []

    public func variant(_ label: String) -> LessonVariant? { variants.first { $0.label == label } }

    /// The runs: the base settings, or one per sweep value, with a label for each.
    public func runs() -> [(label: String, settings: RaceSettings)] {
        if !variants.isEmpty {
            return variants.map { v in
                var s = base
                if let x = v.via { s.via = x.isEmpty ? nil : x }
                if let x = v.reconnect { s.reconnect = x }
                if let x = v.transports { s.transports = x }
                if let x = v.rate { s.rate = x }
                if let x = v.duration { s.duration = x }
                if let x = v.clients { s.clients = x }
                return (v.label, s)
            }
        }
        guard let sweep = sweep else { return [("", base)] }
        return sweep.values.map { v in
            var s = base
            switch sweep.name {
            case "rate":
                s.rate = v
                // Slow rates need longer runs to see a handful of events.
                s.duration = max(base.duration, (5 / max(v, 0.01)).rounded(.up))
                // The label says how long the run really was (finding 9).
                return ("\(JSONNumber.text(v)) events/s, \(JSONNumber.text(s.duration)) s", s)
            case "clients":
                s.clients = Int(v)
                return ("\(Int(v)) client\(v == 1 ? "" : "s") per transport", s)
            default:
                s.size = Int(v)
                return ("\(Int(v)) B of data", s)
            }
        }
    }
}

public enum LessonFiles {
    /// Lessons/ next to the working directory, or next to the source tree the binary was built in.
    public static func directory() -> String? {
        let fm = FileManager.default
        var candidates: [String] = []
        if let env = ProcessInfo.processInfo.environment["WIRELAB_LESSONS"] { candidates.append(env) }
        candidates.append(fm.currentDirectoryPath + "/Lessons")
        // .build/<triple>/release/wirelab → the package folder is three or four levels up.
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            dir.deleteLastPathComponent()
            candidates.append(dir.path + "/Lessons")
        }
        return candidates.first { fm.fileExists(atPath: $0 + "/01-short-polling/scenario.json") }
    }

    public static func scenario(for lesson: Lesson) throws -> LessonScenario {
        guard let dir = directory() else {
            throw LessonError("cannot find the Lessons/ folder: run from the WireLab folder or set WIRELAB_LESSONS")
        }
        let path = dir + "/" + lesson.folder + "/scenario.json"
        guard let data = FileManager.default.contents(atPath: path),
              var object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw LessonError("cannot read \(path)")
        }
        object.removeValue(forKey: "title")
        let extras = object.removeValue(forKey: "lesson") as? [String: Any] ?? [:]
        let raceJSON = try JSONSerialization.data(withJSONObject: object)
        var scenario = LessonScenario(base: try RaceSettings(scenario: raceJSON))
        scenario.base.format = .table
        if let sweep = extras["sweep"] as? [String: Any], let (name, values) = sweep.first,
           let numbers = values as? [Double] {
            scenario.sweep = (name, numbers)
        }
        if let talk = extras["talk_back"] as? [String: Any] {
            scenario.talkBack = true
            scenario.talkBackMessages = talk["messages"] as? Int ?? 50
            scenario.talkBackSize = talk["size"] as? Int ?? 64
        }
        if let h = extras["http2"] as? [String: Any] {
            scenario.http2 = (h["streams"] as? Int ?? 7, h["seconds"] as? Double ?? 3)
        }
        for v in extras["variants"] as? [[String: Any]] ?? [] {
            guard let label = v["label"] as? String else { throw LessonError("\(path): a variant without a label") }
            var variant = LessonVariant(label: label)
            variant.via = v["via"] as? String
            if let r = v["reconnect"] as? String {
                guard let k = ReconnectKind(rawValue: r) else { throw LessonError("\(path): variant \(label): reconnect '\(r)'") }
                variant.reconnect = k
            }
            if let t = v["transports"] as? String {
                let list = t.split(separator: ",").compactMap { RaceTransport(rawValue: String($0)) }
                guard list.count == t.split(separator: ",").count else { throw LessonError("\(path): variant \(label): transports '\(t)'") }
                variant.transports = list
            }
            variant.rate = v["rate"] as? Double
            variant.duration = v["duration"] as? Double
            variant.clients = v["clients"] as? Int
            variant.heartbeat = v["heartbeat"] as? Double
            variant.nginx = v["nginx"] as? String
            variant.model = v["model"] as? Bool ?? true
            scenario.variants.append(variant)
        }
        if let r = extras["repeat"] as? Int { scenario.repeats = max(1, r) }
        if let h = extras["heartbeat"] as? Double { scenario.heartbeat = h }
        if let ms = extras["sse_retry"] as? Int { scenario.sseRetryMillis = ms }
        if let d = extras["drop"] as? [String: Any], let name = d["transport"] as? String,
           let t = RaceTransport(rawValue: name) {
            scenario.drop = (t, d["at"] as? Double ?? 0.5)
        }
        return scenario
    }
}
