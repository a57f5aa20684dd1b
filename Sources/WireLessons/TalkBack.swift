// Lesson 6: talking back. The same messages sent two ways, timed and counted at our socket:
//  - HTTP: POST /publish, one request and one response per message (keep-alive connection);
//  - WebSocket: one masked text frame per message to /echo, which sends it straight back.
import WireCodec
import WireLoop
import WireServer

struct TalkBackResult {
    var method: String
    var messages: Int
    var bytesUp: Int
    var bytesDown: Int
    var meanRoundTripMs: Double
}

enum TalkBack {
    static func run(_ lesson: Lesson, scenario: LessonScenario, options: LessonOptions) throws -> LessonResults {
        let say = options.out
        let n = scenario.talkBackMessages, size = scenario.talkBackSize
        let server = try LessonRunner.startServer(rate: 0, size: 64)
        defer { server.shutdown(grace: 0.2) }
        let message = String(repeating: "m", count: size)
        say("── Prediction ──")
        say("POST: the message plus a request line and headers up, a status line, headers and {\"id\":N} back; WebSocket: \(size + 6) B up (2 B header + 4 B mask, RFC 6455 §5.2, §5.3), \(size + 2) B back.")
        say("")
        LessonRunner.pause(options, "the measurement")
        say("── Measuring: \(n) messages of \(size) B each way (rerun exactly this with: wirelab lesson \(lesson.number); the numbers are lesson.talk_back in Lessons/\(lesson.folder)/scenario.json) ──")

        // HTTP: POST /publish on one keep-alive connection.
        let http = try BlockingClient(host: "127.0.0.1", port: server.port)
        var up = 0, down = 0
        var total: Int64 = 0
        for _ in 0..<n {
            var headers = HTTPHeaders()
            headers.add(name: "Host", value: "127.0.0.1:\(server.port)")
            headers.add(name: "Content-Type", value: "text/plain")
            let request = HTTPSerializer.request(method: "POST", target: "/publish", headers: headers, body: Array(message.utf8))
            let start = LoopClock.monotonicNanos()
            http.send(request)
            up += request.count
            guard http.read(until: { bytes in
                guard let end = BlockingClient.headEnd(bytes) else { return false }
                return bytes.count > end && bytes.last == UInt8(ascii: "}")
            }) else { throw LessonError("no answer to POST /publish") }
            total += LoopClock.monotonicNanos() - start
            down += http.buffer.count
            _ = http.take(http.buffer.count)
        }
        let post = TalkBackResult(method: "POST /publish", messages: n, bytesUp: up, bytesDown: down,
                                  meanRoundTripMs: Double(total) / Double(n) / 1e6)

        // WebSocket: /echo.
        let ws = try BlockingClient(host: "127.0.0.1", port: server.port)
        let key = WebSocketHandshake.makeKey()
        var h = HTTPHeaders()
        for (k, v) in [("Host", "127.0.0.1:\(server.port)"), ("Upgrade", "websocket"), ("Connection", "Upgrade"),
                       ("Sec-WebSocket-Key", key), ("Sec-WebSocket-Version", "13")] { h.add(name: k, value: v) }
        ws.send(HTTPSerializer.request(method: "GET", target: "/echo", headers: h))
        guard ws.read(until: { BlockingClient.headEnd($0) != nil }), let end = BlockingClient.headEnd(ws.buffer) else {
            throw LessonError("no handshake from /echo")
        }
        _ = ws.take(end)
        up = 0; down = 0; total = 0
        for _ in 0..<n {
            let frame = WebSocketFrameEncoder.encode(opcode: .text, payload: Array(message.utf8),
                                                     maskingKey: WebSocketFrameEncoder.makeMaskingKey())
            let start = LoopClock.monotonicNanos()
            ws.send(frame)
            up += frame.count
            let echoed = try InspectSession.readFrame(ws)
            total += LoopClock.monotonicNanos() - start
            down += echoed.count
        }
        let echo = TalkBackResult(method: "WebSocket /echo", messages: n, bytesUp: up, bytesDown: down,
                                  meanRoundTripMs: Double(total) / Double(n) / 1e6)

        let columns = ["way back", "messages", "bytes up/message", "bytes down/message", "round trip mean"]
        let rows = [post, echo].map { r in
            [r.method, String(r.messages), Say.bytes(Double(r.bytesUp) / Double(n)),
             Say.bytes(Double(r.bytesDown) / Double(n)), Say.ms(r.meanRoundTripMs)]
        }
        for line in LessonReport.align([columns] + rows) { say(line) }
        say("")
        LessonRunner.pause(options, "what to notice")
        say("── What to notice (from your numbers) ──")
        let ratio = Double(post.bytesUp + post.bytesDown) / Double(max(1, echo.bytesUp + echo.bytesDown))
        var notice = ["A message sent as POST cost \(Say.bytes(Double(post.bytesUp + post.bytesDown) / Double(n))) both ways; as a WebSocket frame, \(Say.bytes(Double(echo.bytesUp + echo.bytesDown) / Double(n))): "
                        + (ratio >= 1 ? "\(Say.times(ratio)) the bytes for the POST." : "the POST was cheaper this time (\(Say.times(1 / ratio)) fewer bytes).")]
        notice.append("Each client frame carried \(Say.bytes(Double(echo.bytesUp) / Double(n) - Double(size))) of header and masking key; each POST carried \(Say.bytes(Double(post.bytesUp) / Double(n) - Double(size))) of request line and headers — a browser's fetch() adds about 400 B more (Sources/WireMeasure/BrowserHeaders.swift).")
        notice.append("Round trip: POST \(Say.ms(post.meanRoundTripMs)), WebSocket echo \(Say.ms(echo.meanRoundTripMs))" + (echo.meanRoundTripMs < post.meanRoundTripMs ? ": the echo was quicker; the POST also publishes an event and builds a response head." : ": the POST was as quick or quicker; on loopback both are a fraction of a millisecond."))
        for sentence in notice { say("• " + sentence) }
        say("")
        say("More: Lessons/\(lesson.folder)/README.md")

        var results = LessonResults()
        results.notice = notice
        results.markdown = ["| " + columns.joined(separator: " | ") + " |", "|" + columns.map { _ in " --- " }.joined(separator: "|") + "|"]
            + rows.map { "| " + $0.joined(separator: " | ") + " |" }
            + ["", "What to notice (computed from this run by `wirelab lesson \(lesson.number)`):", ""] + notice.map { "- " + $0 }
        results.csv = "method,messages,bytes_up,bytes_down,round_trip_ms_mean\n" + [post, echo].map {
            "\($0.method),\($0.messages),\($0.bytesUp),\($0.bytesDown),\($0.meanRoundTripMs)"
        }.joined(separator: "\n") + "\n"
        results.json = "{\"lesson\":6,\"results\":[" + [post, echo].map {
            "{\"method\":\"\($0.method)\",\"messages\":\($0.messages),\"bytes_up\":\($0.bytesUp),\"bytes_down\":\($0.bytesDown),\"round_trip_ms_mean\":\($0.meanRoundTripMs)}"
        }.joined(separator: ",") + "]}\n"
        return results
    }
}

/// What a lesson hands to `make tables`.
public struct LessonResults {
    public var runs: [LessonRun] = []
    public var markdown: [String] = []
    public var csv = ""
    public var json = ""
    public var charts: [(name: String, svg: String)] = []
    /// The "what to notice" sentences of the run.
    public var notice: [String] = []
}
