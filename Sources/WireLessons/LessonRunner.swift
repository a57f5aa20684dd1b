// `wirelab lesson N`: title and idea, the exchange on the wire (live), the model's prediction,
// the measurement with a progress bar, the results next to the prediction, and what to notice,
// computed from the numbers. `--step` pauses between the parts for a classroom.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import WireMeasure
import WireServer
import WireLoop

public struct LessonOptions {
    public var step = false
    /// Skip the live wire excerpt (for `make tables`).
    public var showWire = true
    public var out: (String) -> Void = { print($0) }
    public init() {}
}

public struct LessonError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

public enum LessonRunner {
    /// Runs the lesson and returns its measured runs (one per sweep value) and their tables.
    public static func run(_ lesson: Lesson, options: LessonOptions) throws -> LessonResults {
        let say = options.out
        let scenario = try LessonFiles.scenario(for: lesson)
        say("Lesson \(lesson.number): \(lesson.title)")
        say(String(repeating: "═", count: min(78, lesson.title.count + 10)))
        say(lesson.idea)
        say("")
        pause(options, "the wire")

        if options.showWire, let wire = lesson.wire {
            say("── On the wire: one real \(wire.rawValue) exchange (wirelab inspect \(wire.rawValue)) ──")
            let server = try startServer(rate: 2, size: 16)
            defer { server.shutdown(grace: 0.2) }
            server.feed.publish(topic: .tick, data: Feed.tickData(size: 16))
            let lines = try InspectSession.run(wire, host: "127.0.0.1", port: server.port)
            for line in lines.prefix(wire == .ws ? 40 : wire == .h2 ? 80 : 30) { say(line) }
            say("")
            pause(options, "the prediction")
        }

        if scenario.talkBack {
            return try TalkBack.run(lesson, scenario: scenario, options: options)
        }
        if scenario.http2 != nil {
            return try HTTP2Lesson.run(lesson, scenario: scenario, options: options)
        }

        // The model, calibrated on this machine from real exchanges (TransportModelCalibration.swift).
        let runsSettings = scenario.runs()
        let rtt = measureRTT()
        // A lesson whose every run is beyond the model (a cut, a buffer, a lost upgrade) skips
        // the calibration: its tables say what happened, not how far from a prediction.
        let modelled = runsSettings.contains { scenario.variant($0.label)?.model ?? true }
        var calibration = ModelCalibration()
        var calibrations: [Int: ModelCalibration] = [:]
        func calibrated(_ s: RaceSettings) -> ModelCalibration { calibrations[s.size] ?? calibration }
        if modelled {
            let crowd = runsSettings.contains { $0.settings.clients > 1 }
            say("── Calibrating the model: three short races on this machine (1 s each) ──")
            calibration = try ModelCalibration.measure(size: scenario.base.size, headers: scenario.base.headers, crowd: crowd) {
                try startServer(rate: $0, size: scenario.base.size, scenario: scenario)
            }
            say(calibration.summary + "; HTTP round trip \(Say.ms(rtt * 1000))")
            // A lesson that sweeps the event size calibrates at each size (a bigger event takes
            // longer to write, read and parse).
            calibrations[scenario.base.size] = calibration
            for (_, s) in runsSettings where calibrations[s.size] == nil {
                calibrations[s.size] = try ModelCalibration.measure(size: s.size, headers: s.headers, crowd: false) {
                    try startServer(rate: $0, size: s.size, scenario: scenario)
                }
                say("at \(s.size) B: " + calibrations[s.size]!.summary)
            }
            say("")
            say("── Prediction (Sources/WireLessons/TransportModel.swift), each with its bound ──")
            for (label, settings) in runsSettings {
                let predicted = predictions(scenario, label, settings, rtt: rtt, calibrated(settings))
                let parts = settings.transports.compactMap { t -> String? in
                    guard let p = predicted[t] else { return nil }
                    return "\(t.rawValue) ≈ \(Say.bounded(p.latency, Say.ms)), \(Say.bounded(p.bytes, Say.bytes))/event (wire \(Say.bounded(p.wireBytes, Say.bytes)))"
                }
                let unmodelled = settings.transports.filter { predicted[$0] == nil }.map(\.rawValue)
                let tail = unmodelled.isEmpty ? "" : (parts.isEmpty ? "" : "; ") + unmodelled.joined(separator: ", ") + ": no prediction (the model has no term for " + (scenario.variant(label)?.model == false ? "this network)" : "auto's negotiation)")
                say((runsSettings.count > 1 ? "\(label): " : "") + parts.joined(separator: "; ") + tail)
            }
            // Both header sets (finding 4): the run uses one; the model shows the other.
            let other: RequestHeaderSet = scenario.base.headers == .minimal ? .browser : .minimal
            let otherCalibration = other == .browser ? calibration.withBrowserHeaders() : calibration
            if let (_, settings) = runsSettings.first, other == .browser {
                let parts = settings.transports.compactMap { t -> String? in
                    guard let mt = ModelTransport(rawValue: t.rawValue) else { return nil }
                    let p = TransportModel.predict(mt, inputs(settings, rtt: rtt, scenario: scenario, otherCalibration))
                    return "\(t.rawValue) ≈ \(Say.bytes(p.bytes.value))/event"
                }
                say("These runs send a minimal client's request headers (~100 B a request). With Chromium's (~500 B, Sources/WireMeasure/BrowserHeaders.swift; measure with wirelab race --headers browser) the model says\(runsSettings.count > 1 ? " at " + runsSettings[0].label : ""): " + parts.joined(separator: "; ") + ".")
            } else {
                say("These runs send Chromium's request headers (Sources/WireMeasure/BrowserHeaders.swift); `--headers minimal` sends ~100 B a request.")
            }
        } else {
            say("── No prediction: the model (TransportModel.swift) has no term for these networks; the tables show what they did ──")
        }
        say("")
        pause(options, "the measurement")

        var runs: [LessonRun] = []
        var nginxShown: String?
        for (label, settings) in runsSettings {
            let times = scenario.repeats > 1 ? " (\(scenario.repeats) runs)" : ""
            let variant = scenario.variant(label)
            let through = variant?.nginx.map { " through nginx (\($0))" } ?? ""
            say("── Measuring\(runsSettings.count > 1 ? " " + label : "")\(times): \(raceCommand(settings, heartbeat: variant?.heartbeat))\(through)\(scenario.drop.map { " — the \($0.transport.rawValue) streams are dropped at \(Int($0.at * 100)) % of the run" } ?? "") ──")
            if let mode = variant?.nginx, mode != nginxShown {
                nginxShown = mode
                say("nginx configuration (\(mode)), written to \(NginxProxy.directory)/nginx.conf:")
                for line in NginxProxy.locationBlock(mode) { say("    " + line) }
            }
            var results: [RaceResult] = []
            for _ in 0..<scenario.repeats { results.append(try measure(scenario, settings, label: label)) }
            let run = LessonRun(label: label, result: results[0], predictions: predictions(scenario, label, settings, rtt: rtt, calibrated(settings)), repeats: results)
            runs.append(run)
            for line in LessonReport.table(run) { say(line) }
            say("")
            for line in LessonReport.ledgerTable(run) { say(line) }
            say("")
            let survival = LessonReport.survivalTable(run)
            if !survival.isEmpty {
                for line in survival { say(line) }
                say("")
            }
        }
        pause(options, "what to notice")
        say("── What to notice (from your numbers) ──")
        for sentence in lesson.sentences(runs) { say("• " + sentence) }
        say("")
        say("More: Lessons/\(lesson.folder)/README.md")
        return LessonTables.results(lesson, runs, sweep: scenario.sweep?.name)
    }

    /// The command that reruns one measurement of the lesson by hand (a heartbeat other than
    /// the default needs a server of its own: `wirelab serve --heartbeat S` and `--url`).
    static func raceCommand(_ s: RaceSettings, heartbeat: Double? = nil) -> String {
        (heartbeat.map { "wirelab serve --port 8080 --rate \(JSONNumber.text(s.rate)) --heartbeat \(JSONNumber.text($0)) & " } ?? "")
        + "wirelab race " + (heartbeat != nil ? "--url http://127.0.0.1:8080 " : "")
        + "--transports \(s.transports.map { $0.rawValue }.joined(separator: ",")) --rate \(JSONNumber.text(s.rate)) --size \(s.size) --clients \(s.clients) --duration \(JSONNumber.text(s.duration)) --poll-interval \(JSONNumber.text(s.pollInterval))" + (s.headers == .minimal ? "" : " --headers \(s.headers.rawValue)")
        + (s.via.map { " --via \"\($0)\" --reconnect \(s.reconnect.rawValue)" } ?? "")
    }

    /// The model's predictions for one run: none for auto (the model has no term for its
    /// negotiation) or for a variant that says `"model": false`.
    static func predictions(_ scenario: LessonScenario, _ label: String, _ s: RaceSettings, rtt: Double,
                            _ calibration: ModelCalibration) -> [RaceTransport: Prediction] {
        guard scenario.variant(label)?.model ?? true else { return [:] }
        var out: [RaceTransport: Prediction] = [:]
        for t in s.transports {
            guard let mt = ModelTransport(rawValue: t.rawValue) else { continue }
            out[t] = TransportModel.predict(mt, inputs(s, rtt: rtt, scenario: scenario, calibration))
        }
        return out
    }

    /// `--delay MS` and `--jitter MS` out of `--via` flags, in seconds.
    static func distance(_ via: String?) -> (delay: Double, jitter: Double) {
        guard let via else { return (0, 0) }
        let words = via.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        func value(_ flag: String) -> Double {
            guard let i = words.firstIndex(of: flag), i + 1 < words.count else { return 0 }
            return (Double(words[i + 1]) ?? 0) / 1000
        }
        return (value("--delay"), value("--jitter"))
    }

    /// The wirelab executable `--via` starts (a test sets it; `wirelab lesson` finds itself).
    nonisolated(unsafe) public static var executable: String?

    static func inputs(_ s: RaceSettings, rtt: Double, scenario: LessonScenario? = nil, _ calibration: ModelCalibration = ModelCalibration()) -> ModelInputs {
        var m = ModelInputs(rate: s.rate, size: s.size, pollInterval: s.pollInterval, rtt: rtt, duration: s.duration)
        m.subscribers = s.clients * s.transports.filter { $0 == .sse || $0 == .ws }.count
        m.heartbeat = scenario?.heartbeat ?? 15
        m.dropped = scenario?.drop.flatMap { ModelTransport(rawValue: $0.transport.rawValue) }
        if m.dropped == .sse, let ms = scenario?.sseRetryMillis { m.reconnectGap = Double(ms) / 1000 }
        m.calibration = calibration
        (m.delay, m.jitter) = distance(s.via)
        return m
    }

    /// One race against a server of our own, configured as the scenario says, so the lesson can
    /// act on it (drop the streams of a transport part-way, as a lost network would).
    static func measure(_ scenario: LessonScenario, _ settings: RaceSettings, label: String = "") throws -> RaceResult {
        var sc = scenario
        let variant = scenario.variant(label)
        if let h = variant?.heartbeat { sc.heartbeat = h }
        let server = try startServer(rate: settings.rate, size: settings.size, scenario: sc)
        defer { server.shutdown(grace: 0.5) }
        var s = settings
        s.url = "http://127.0.0.1:\(server.port)"
        s.pauseGeneratorAtEnd = true
        s.quietWhileConnecting = true     // the server generates at settings.rate
        if s.serverExecutable == nil { s.serverExecutable = executable }
        s.keepGoingAfterFailures = true     // what broke is part of the lesson (a 426, a reset)
        // A real middlebox: nginx in front of the server, the clients sent to it.
        var nginx: NginxProxy?
        if let mode = variant?.nginx {
            let n = try NginxProxy(upstreamPort: server.port, mode: mode)
            nginx = n
            s.clientURL = "http://127.0.0.1:\(n.port)"
        }
        defer { nginx?.stop() }
        let bar = ProgressBar(total: settings.duration)
        defer { bar.finish() }
        var dropped = false
        return try Race(settings: s).run { p in
            bar.update(p)
            if let drop = scenario.drop, !dropped, p.phase == .running, p.elapsed >= drop.at * settings.duration,
               let t = Transport.allCases.first(where: { $0.name == drop.transport.rawValue }) {
                dropped = true
                server.dropStreams(of: t)
            }
        }
    }

    static func startServer(rate: Double, size: Int, scenario: LessonScenario? = nil) throws -> Server {
        var config = ServerConfig()
        config.port = 0
        config.rate = rate
        config.size = size
        if let scenario {
            config.heartbeat = scenario.heartbeat
            config.sseRetryMillis = scenario.sseRetryMillis
        }
        let server = Server(config: config)
        try server.start()
        return server
    }

    /// The round trip of one small HTTP exchange with our server on loopback (median of 50
    /// GET /healthz on one keep-alive connection): the wire *and* the server's own turn, which is
    /// what an event's one-way trip costs too.
    static func measureRTT() -> Double {
        guard let server = try? startServer(rate: 0, size: 0) else { return 200e-6 }
        defer { server.shutdown(grace: 0.1) }
        guard let client = try? BlockingClient(host: "127.0.0.1", port: server.port) else { return 200e-6 }
        let request = Array("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        var samples: [Int64] = []
        for _ in 0..<50 {
            let start = LoopClock.monotonicNanos()
            client.send(request)
            guard client.read(until: { $0.count >= 4 && $0.suffix(2) == [0x6F, 0x6B] }) else { break }   // "...ok"
            samples.append(LoopClock.monotonicNanos() - start)
            _ = client.take(client.buffer.count)
        }
        guard !samples.isEmpty else { return 200e-6 }
        return Double(samples.sorted()[samples.count / 2]) / 1e9
    }

    static func pause(_ options: LessonOptions, _ next: String) {
        guard options.step, isatty(0) != 0 else { return }
        options.out("[Enter: \(next)]")
        _ = readLine()
    }
}

/// JSON-ish number text: 2 not 2.0.
enum JSONNumber {
    static func text(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(v) }
}

/// A progress bar on stderr, only when stderr is a terminal.
final class ProgressBar {
    let total: Double
    let enabled = isatty(2) != 0
    init(total: Double) { self.total = total }
    func update(_ p: RaceProgress) {
        guard enabled else { return }
        let fraction = min(1, max(0, p.elapsed / total))
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        fputs("\r  [\(bar)] \(Say.round1(p.elapsed))/\(JSONNumber.text(total)) s, \(p.events) events  ", stderr)
    }
    func finish() { if enabled { fputs("\r" + String(repeating: " ", count: 70) + "\r", stderr) } }
}
