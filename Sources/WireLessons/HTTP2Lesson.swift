// Lesson 12: HTTP/2. Three measurements, each printed as it is made:
//   1. the race over HTTP/1.1 and over HTTP/2 (h2c, `race --http 2`) at each rate of the
//      scenario's sweep, and once with `--share` (one connection for every transport): bytes
//      per event and connections;
//   2. ten polls over one HTTP/2 connection, counted per stream by the codec: the first
//      request's header block against the rest (HPACK's dynamic table, RFC 7541 §2.3.2);
//   3. the six-connections-per-host limit, live: seven EventSources in headless Chromium,
//      directly (HTTP/1.1) and through nginx terminating TLS with HTTP/2. Chromium, nginx and
//      openssl are driven by a Python helper, Lessons/12-http2/seven_streams.py (selenium is
//      Python's; a Swift WebDriver client would be a second project), which prints JSON.
// The sentences are worded from the numbers in HTTP2LessonNotices.swift.
import Foundation
import WireCodec
import WireMeasure
import WireServer

enum HTTP2Lesson {
    static func run(_ lesson: Lesson, scenario: LessonScenario, options: LessonOptions) throws -> LessonResults {
        let say = options.out
        let rates = scenario.sweep?.name == "rate" ? scenario.sweep!.values : [scenario.base.rate]
        say("── Predict first ──")
        say("Polling over HTTP/2: the first request carries its headers once, literally; the next ones a few bytes of indexes. SSE and WebSocket: the same bytes per event plus a 9-byte DATA frame header. Connections: one per client, or one for all with --share. Seven EventSources: six flow over HTTP/1.1, seven over HTTP/2.")
        say("")
        LessonRunner.pause(options, "the measurement")

        var numbers = HTTP2LessonNumbers()
        var runs: [LessonRun] = []
        var markdown: [String] = []
        let columns = ["rate", "transport", "B/event HTTP/1.1", "B/event HTTP/2", "conns HTTP/1.1", "conns HTTP/2", "requests HTTP/1.1", "requests HTTP/2", "missed"]
        var table: [[String]] = [columns]
        var http1Poll: (up: Double, down: Double)?
        for rate in rates {
            var byVersion: [RaceHTTPVersion: RaceResult] = [:]
            for version in RaceHTTPVersion.allCases {
                var s = scenario.base
                s.rate = rate
                s.http = version
                say("── Measuring: \(LessonRunner.raceCommand(s)) --http \(version.rawValue) ──")
                let result = try LessonRunner.measure(scenario, s)
                byVersion[version] = result
                runs.append(LessonRun(label: "\(JSONNumber.text(rate)) events/s, HTTP/\(version.rawValue)", result: result, predictions: [:]))
                if let check = result.serverCheck { say(check.agrees ? "server /stats agrees to the byte" : "server /stats differs: " + check.differences.joined(separator: "; ")) }
                if let h = result.http2 { say("HTTP/2: \(h.connections) connections; their own frames (preface, SETTINGS, WINDOW_UPDATE) \(h.bytesUp) B up, \(h.bytesDown) B down") }
            }
            guard let r1 = byVersion[.http1_1], let r2 = byVersion[.http2] else { continue }
            for t in scenario.base.transports {
                let a = r1.result(t), b = r2.result(t)
                let row = HTTP2LessonNumbers.Row(rate: rate, transport: t, http1: a?.bytesPerEvent, http2: b?.bytesPerEvent,
                                                 connections1: a?.connections ?? 0, connections2: b?.connections ?? 0)
                numbers.rows.append(row)
                table.append([JSONNumber.text(rate), t.rawValue, row.http1.map(Say.bytes) ?? "–", row.http2.map(Say.bytes) ?? "–",
                              String(row.connections1), String(row.connections2), String(a?.requests ?? 0), String(b?.requests ?? 0),
                              Say.count((a?.missed ?? 0) + (b?.missed ?? 0))])
                if t == .poll, http1Poll == nil, let a, a.requests > 0 {
                    http1Poll = (Double(a.bytesUp) / Double(a.requests), Double(a.bytesDown) / Double(a.requests))
                }
            }
        }
        if let rate = rates.last {
            var s = scenario.base
            s.rate = rate
            s.http = .http2
            s.share = true
            say("── Measuring: \(LessonRunner.raceCommand(s)) --http 2 --share ──")
            let shared = try LessonRunner.measure(scenario, s)
            numbers.sharedConnections = shared.http2?.connections
            runs.append(LessonRun(label: "\(JSONNumber.text(rate)) events/s, HTTP/2, shared", result: shared, predictions: [:]))
        }
        say("")
        for line in LessonReport.align(table) { say(line) }
        say("")

        // HPACK, request by request.
        say("── HPACK: ten polls over one HTTP/2 connection, each stream's bytes counted by the codec ──")
        let server = try LessonRunner.startServer(rate: scenario.base.rate, size: scenario.base.size, scenario: scenario)
        let perStream = try pollProbe(port: server.port, polls: 10)
        server.shutdown(grace: 0.2)
        for (i, c) in perStream.enumerated() { say("poll \(i + 1): \(c.sent) B up, \(c.received) B down") }
        if perStream.count > 1, let first = perStream.first {
            let rest = perStream.dropFirst()
            numbers.probe = HTTP2LessonNumbers.Probe(
                polls: perStream.count, firstUp: first.sent, firstDown: first.received,
                restUp: Double(rest.reduce(0) { $0 + $1.sent }) / Double(rest.count),
                restDown: Double(rest.reduce(0) { $0 + $1.received }) / Double(rest.count),
                http1Up: http1Poll?.up ?? 0, http1Down: http1Poll?.down ?? 0)
        }
        say("")

        // Six per host, live.
        if let seven = scenario.http2 {
            LessonRunner.pause(options, "seven EventSources in Chromium")
            say("── \(seven.streams) EventSources in one Chromium tab: directly (HTTP/1.1), then through nginx (TLS + HTTP/2) ──")
            sevenStreams(streams: seven.streams, seconds: seven.seconds, scenario: scenario, into: &numbers)
            for (name, s) in [("direct", numbers.direct), ("through nginx", numbers.nginx)] {
                guard let s else { continue }
                say("\(name) (\(s.protocolName)): " + s.counts.enumerated().map { "stream \($0.offset + 1): \($0.element)" }.joined(separator: ", "))
            }
            say("")
        }

        LessonRunner.pause(options, "what to notice")
        say("── What to notice (from your numbers) ──")
        let notice = HTTP2Notices.sentences(numbers)
        for sentence in notice { say("• " + sentence) }
        say("")
        say("More: Lessons/\(lesson.folder)/README.md")

        var results = LessonResults()
        results.runs = runs
        results.notice = notice
        markdown = ["| " + columns.joined(separator: " | ") + " |", "|" + columns.map { _ in " --- " }.joined(separator: "|") + "|"]
            + table.dropFirst().map { "| " + $0.joined(separator: " | ") + " |" }
            + ["", "What to notice (computed from this run by `wirelab lesson \(lesson.number)`):", ""] + notice.map { "- " + $0 }
        results.markdown = markdown
        results.csv = table.map { $0.joined(separator: ",") }.joined(separator: "\n") + "\n"
        results.json = "{\"lesson\":\(lesson.number),\"rows\":[" + numbers.rows.map { r in
            "{\"rate\":\(r.rate),\"transport\":\"\(r.transport.rawValue)\",\"bytes_per_event_http1\":\(r.http1.map { "\($0)" } ?? "null"),\"bytes_per_event_http2\":\(r.http2.map { "\($0)" } ?? "null"),\"connections_http1\":\(r.connections1),\"connections_http2\":\(r.connections2)}"
        }.joined(separator: ",") + "]}\n"
        return results
    }

    /// `polls` short polls on successive streams of one h2c connection, each asking since the
    /// last answer's `next` (as a poller does, so `:path` changes); returns each stream's bytes.
    static func pollProbe(port: Int, polls: Int) throws -> [HTTP2ByteCount] {
        let client = try BlockingClient(host: "127.0.0.1", port: port)
        var connection = HTTP2Connection(role: .client)
        var counts: [HTTP2ByteCount] = []
        var since = 0
        var pending: [UInt8] = []
        func take(_ actions: [HTTP2Connection.Action], body: inout [UInt8]) -> Bool {
            var ended = false
            for a in actions {
                switch a {
                case .write(let b): pending += b
                case .data(_, let bytes, let end): body += bytes; ended = ended || end
                case .headers(_, _, let end): ended = ended || end
                case .streamReset, .goAway, .connectionError: ended = true
                }
            }
            return ended
        }
        var ignored: [UInt8] = []
        _ = take(connection.start(), body: &ignored)
        for _ in 0..<polls {
            let id = connection.openStream()
            var body: [UInt8] = []
            let fields = [HPACKHeaderField(":method", "GET"), HPACKHeaderField(":scheme", "http"),
                          HPACKHeaderField(":authority", "127.0.0.1:\(port)"),
                          HPACKHeaderField(":path", "/poll?since=\(since)&client=lesson-h2"),
                          HPACKHeaderField("accept", "application/json")]
            _ = take(try connection.sendHeaders(streamID: id, fields: fields, endStream: true), body: &body)
            client.send(pending)
            pending = []
            var done = false
            while !done {
                let before = client.buffer.count
                guard client.read(until: { $0.count > before }, within: 5) == .done else {
                    throw LessonError("no HTTP/2 answer to poll stream \(id) within 5 s")
                }
                done = take(connection.receive(client.take(client.buffer.count)), body: &body)
            }
            if !pending.isEmpty { client.send(pending); pending = [] }
            if let next = EventScanner.pollBody(body).next { since = next }
            counts.append(connection.takeByteCounts()[id] ?? HTTP2ByteCount())
        }
        return counts
    }

    /// Runs Lessons/12-http2/seven_streams.py against a lesson server; fills `direct` and
    /// `nginx`, or `browserError`.
    static func sevenStreams(streams count: Int, seconds: Double, scenario: LessonScenario, into numbers: inout HTTP2LessonNumbers) {
        guard let dir = LessonFiles.directory() else { numbers.browserError = "no Lessons/ folder"; return }
        let server: Server
        do { server = try LessonRunner.startServer(rate: 5, size: 64, scenario: scenario) } catch {
            numbers.browserError = "cannot start a server: \(error)"; return
        }
        defer { server.shutdown(grace: 0.2) }
        let root = (dir as NSString).deletingLastPathComponent
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [ProcessInfo.processInfo.environment["PYTHON"] ?? "python3", dir + "/12-http2/seven_streams.py",
                             "--server", "http://127.0.0.1:\(server.port)", "--work", root + "/.build/wirelab-h2",
                             "--streams", String(count), "--seconds", String(seconds)]
        let pipe = Pipe()
        process.standardOutput = pipe
        do { try process.run() } catch { numbers.browserError = "cannot run python3: \(error)"; return }
        // Bounded: two browser sessions and nginx; kill it after two minutes.
        let deadline = Date().addingTimeInterval(120)
        while process.isRunning && Date() < deadline { usleep(100_000) }
        if process.isRunning { process.terminate(); numbers.browserError = "the browser helper took over two minutes"; return }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            numbers.browserError = "the browser helper printed no JSON"; return
        }
        if let e = object["error"] as? String { numbers.browserError = e; return }
        func streams(_ key: String) -> HTTP2LessonNumbers.Streams? {
            guard let o = object[key] as? [String: Any], let counts = o["counts"] as? [Int] else { return nil }
            return HTTP2LessonNumbers.Streams(protocolName: (o["protocol"] as? String).map { $0 == "h2" ? "HTTP/2" : $0.uppercased() } ?? "?", counts: counts)
        }
        numbers.direct = streams("direct")
        numbers.nginx = streams("nginx")
    }
}
