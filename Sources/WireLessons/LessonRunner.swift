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
            for line in lines.prefix(wire == .ws ? 40 : 30) { say(line) }
            say("")
            pause(options, "the prediction")
        }

        if lesson.number == 6 {
            return try TalkBack.run(lesson, scenario: scenario, options: options)
        }

        // The prediction, from the model and this machine's loopback round trip.
        let rtt = measureRTT()
        let runsSettings = scenario.runs()
        say("── Prediction (model: Sources/WireLessons/TransportModel.swift; HTTP round trip on loopback \(Say.round1(rtt * 1e6)) µs) ──")
        for (label, settings) in runsSettings {
            let parts = settings.transports.map { t -> String in
                let p = TransportModel.predict(ModelTransport(rawValue: t.rawValue)!, inputs(settings, rtt: rtt))
                return "\(t.rawValue) ≈ \(Say.ms(p.latencyMeanMs)), \(Say.bytes(p.bytesPerEvent))/event"
            }
            say((runsSettings.count > 1 ? "\(label): " : "") + parts.joined(separator: "; "))
        }
        say("")
        pause(options, "the measurement")

        var runs: [LessonRun] = []
        for (label, settings) in runsSettings {
            say("── Measuring\(runsSettings.count > 1 ? " " + label : ""): wirelab race --transports \(settings.transports.map { $0.rawValue }.joined(separator: ",")) --rate \(JSONNumber.text(settings.rate)) --size \(settings.size) --clients \(settings.clients) --duration \(JSONNumber.text(settings.duration)) ──")
            let result = try measure(lesson, settings)
            var predictions: [RaceTransport: Prediction] = [:]
            for t in settings.transports {
                predictions[t] = TransportModel.predict(ModelTransport(rawValue: t.rawValue)!, inputs(settings, rtt: rtt))
            }
            let run = LessonRun(label: label, result: result, predictions: predictions)
            runs.append(run)
            for line in LessonReport.table(run) { say(line) }
            say("")
        }
        pause(options, "what to notice")
        say("── What to notice (from your numbers) ──")
        for sentence in lesson.notice(runs) { say("• " + sentence) }
        say("")
        say("More: Lessons/\(lesson.folder)/README.md")
        return LessonTables.results(lesson, runs)
    }

    static func inputs(_ s: RaceSettings, rtt: Double) -> ModelInputs {
        ModelInputs(rate: s.rate, size: s.size, pollInterval: s.pollInterval, rtt: rtt, duration: s.duration)
    }

    /// One race against a server of our own, so the lesson can act on it (lesson 3 drops the
    /// SSE streams halfway).
    static func measure(_ lesson: Lesson, _ settings: RaceSettings) throws -> RaceResult {
        let server = try startServer(rate: settings.rate, size: settings.size)
        defer { server.shutdown(grace: 0.5) }
        var s = settings
        s.url = "http://127.0.0.1:\(server.port)"
        s.pauseGeneratorAtEnd = true
        if lesson.number == 3 {
            let dropAt = settings.duration / 2
            Thread.detachNewThread {
                usleep(useconds_t(dropAt * 1e6) + 1_000_000)   // + setup time
                server.dropStreams(of: .sse)
            }
        }
        let bar = ProgressBar(total: settings.duration)
        defer { bar.finish() }
        return try Race(settings: s).run { bar.update($0) }
    }

    static func startServer(rate: Double, size: Int) throws -> Server {
        var config = ServerConfig()
        config.port = 0
        config.rate = rate
        config.size = size
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
