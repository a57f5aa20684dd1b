// `wirelab inspect`: performs one real exchange and prints its bytes, annotated.
// The bytes shown are the bytes that crossed the socket; nothing is re-created for display.
//
// Every wait is bounded (`wait`, 2 s by default): a quiet server (`wirelab serve --rate 0`)
// still shows its handshake, and `inspect` says in one sentence that no event came, instead of
// hanging or failing. WebSocket then shows a ping and the server's pong, which work on a quiet
// connection too (RFC 6455 §5.5.2, §5.5.3).
import WireCodec
import WireLoop

public enum InspectTransport: String, CaseIterable {
    case poll, longpoll, sse, ws
    /// Two short polls over one HTTP/2 connection (h2c), frame by frame (InspectSession+HTTP2).
    case h2
}

public enum InspectSession {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// How long a reply that should come at once (a response head, a pong) may take.
    static let promptReply = 5.0

    /// Runs the exchange against host:port and returns the annotated lines. `wait` bounds the
    /// wait for an event (seconds).
    public static func run(_ transport: InspectTransport, host: String, port: Int, wait: Double = 2) throws -> [String] {
        let client = try BlockingClient(host: host, port: port)
        let hostHeader = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        switch transport {
        case .poll:
            return try httpExchange(client, target: "/poll?since=0&limit=1&client=inspect-poll", host: hostHeader,
                                    intro: "Short polling: ask, get an answer at once (events or none).", wait: 0,
                                    whenEmpty: "The answer holds no event: short polling answers at once, events or none (this server has none after since=0 yet).")
        case .longpoll:
            // The server's own timeout is whole seconds (PROTOCOL.md §3: a non-negative integer); at least 1.
            let seconds = max(1, Int(wait.rounded(.up)))
            return try httpExchange(client, target: "/longpoll?timeout=\(seconds)&client=inspect-longpoll", host: hostHeader,
                                    intro: "Long polling: the answer waits until there is an event (no since: the next one).",
                                    wait: Double(seconds),
                                    whenEmpty: "No event came within \(seconds) s: the server answered at its timeout (timeout=\(seconds)) with no events; a client would ask again at once.")
        case .sse:
            return try sse(client, host: hostHeader, wait: wait)
        case .ws:
            return try webSocket(client, host: hostHeader, wait: wait)
        case .h2:
            return try http2Polls(client, host: hostHeader)
        }
    }

    static func request(_ target: String, host: String, extra: [(String, String)] = []) -> [UInt8] {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: host)
        headers.add(name: "User-Agent", value: "wirelab-inspect")
        for (n, v) in extra { headers.add(name: n, value: v) }
        return HTTPSerializer.request(method: "GET", target: target, headers: headers)
    }

    /// True once the buffer holds a whole head and the Content-Length bytes after it.
    static func wholeResponse(_ bytes: [UInt8]) -> Bool {
        guard let end = BlockingClient.headEnd(bytes) else { return false }
        let head = String(decoding: bytes[0..<end], as: UTF8.self).lowercased()
        guard let r = head.range(of: "content-length: ") else { return true }
        let digits = head[r.upperBound...].prefix { $0.isNumber }
        return bytes.count >= end + (Int(digits) ?? 0)
    }

    static func httpExchange(_ client: BlockingClient, target: String, host: String, intro: String,
                             wait: Double, whenEmpty: String) throws -> [String] {
        let req = request(target, host: host)
        client.send(req)
        let outcome = client.read(until: wholeResponse, within: wait + promptReply)
        guard outcome == .done, let end = BlockingClient.headEnd(client.buffer) else {
            throw Failure(description: "no complete response to GET \(target) within \(Inspector.seconds(wait + promptReply)) s"
                          + (outcome == .closed ? " (the server closed the connection)" : ""))
        }
        let head = client.take(end)
        let body = client.take(client.buffer.count)
        var lines = [intro, "", "── request, client → server ──"]
        lines += Inspector.annotateHead(req, isRequest: true)
        lines += ["", "── response, server → client ──"]
        lines += Inspector.annotateHead(head, isRequest: false)
        lines += Inspector.annotateBody(body)
        lines += ["", "total on the wire (TCP payload): \(req.count) B up, \(head.count + body.count) B down"]
        if String(decoding: body, as: UTF8.self).hasPrefix(#"{"events":[]"#) { lines += ["", whenEmpty] }
        return lines
    }

    /// True once the buffer holds the head and the first whole block of the stream (an event or
    /// a heartbeat: "\n\n" inside a chunk, then the chunk's CRLF).
    static func headAndFirstBlock(_ bytes: [UInt8]) -> Bool {
        guard let end = BlockingClient.headEnd(bytes) else { return false }
        let rest = Array(bytes[end...])
        guard let blank = rest.indices.dropFirst().first(where: { rest[$0] == 0x0A && rest[$0 - 1] == 0x0A }) else { return false }
        return rest.count >= blank + 3 || !String(decoding: bytes[0..<end], as: UTF8.self).contains("chunked")
    }

    static func sse(_ client: BlockingClient, host: String, wait: Double) throws -> [String] {
        let req = request("/sse?client=inspect-sse", host: host)
        client.send(req)
        // The head comes at once; the first block may not (a quiet server).
        let headOutcome = client.read(until: { BlockingClient.headEnd($0) != nil }, within: promptReply)
        guard headOutcome == .done, let end = BlockingClient.headEnd(client.buffer) else {
            throw Failure(description: "no response head from /sse within \(Inspector.seconds(promptReply)) s")
        }
        let blockOutcome = client.read(until: headAndFirstBlock, within: wait)
        let head = client.take(end)
        let stream = client.take(client.buffer.count)
        let chunked = String(decoding: head, as: UTF8.self).lowercased().contains("transfer-encoding: chunked")
        var lines = ["Server-Sent Events: one response that never ends; each event is a block of text lines.",
                     "", "── request, client → server ──"]
        lines += Inspector.annotateHead(req, isRequest: true)
        lines += ["", "── response head, server → client ──"]
        lines += Inspector.annotateHead(head, isRequest: false)
        if blockOutcome == .done {
            lines += ["", "── the stream: \(chunked ? "each event is one HTTP chunk" : "blocks until the connection closes") ──"]
            lines += chunked ? Inspector.annotateSSEChunks(stream) : Inspector.annotateSSEBlock(stream)
            // A quiet stream's first block is a heartbeat comment, not an event.
            if !String(decoding: stream, as: UTF8.self).contains("data:") {
                lines += ["", "A heartbeat came, no event: the server is quiet and keeps the stream alive with comments (PROTOCOL.md §2)."]
            }
        } else {
            lines += ["", "── the stream: nothing within \(Inspector.seconds(wait)) s ──"]
            if !stream.isEmpty { lines += chunked ? Inspector.annotateSSEChunks(stream) : Inspector.annotateSSEBlock(stream) }
            lines.append(Inspector.quietSentence(.sse, wait: wait, closed: blockOutcome == .closed))
        }
        return lines
    }

    /// The WebSocket exchange. `key` and `maskingKey` are parameters so a test can fix them.
    static func webSocket(_ client: BlockingClient, host: String, wait: Double,
                          key: String = WebSocketHandshake.makeKey(),
                          maskingKey: () -> [UInt8] = { WebSocketFrameEncoder.makeMaskingKey() }) throws -> [String] {
        let req = request("/ws?client=inspect-ws", host: host, extra: [
            ("Upgrade", "websocket"), ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", key), ("Sec-WebSocket-Version", "13")])
        client.send(req)
        guard client.read(until: { BlockingClient.headEnd($0) != nil }, within: promptReply) == .done,
              let end = BlockingClient.headEnd(client.buffer) else {
            throw Failure(description: "no handshake response from /ws within \(Inspector.seconds(promptReply)) s")
        }
        let head = client.take(end)
        var lines = ["WebSocket: an HTTP request that turns the connection into a two-way frame channel.",
                     "", "── opening handshake, client → server ──"]
        lines += Inspector.annotateHead(req, isRequest: true)
        lines += ["", "── handshake response, server → client ──"]
        lines += Inspector.annotateHead(head, isRequest: false)
        guard head.starts(with: Array("HTTP/1.1 101".utf8)) else {
            lines += ["", "The server did not switch protocols (no 101), so there are no frames to show."]
            return lines
        }
        lines += [""] + Inspector.acceptComputation(key: key)
        let expected = WebSocketHandshake.acceptValue(forKey: key)
        let ok = String(decoding: head, as: UTF8.self).contains("Sec-WebSocket-Accept: \(expected)")
        lines.append("  matches the server's   \(ok ? "yes" : "NO")")
        lines += afterHandshake(client, wait: wait, maskingKey: maskingKey)
        return lines
    }

    /// Frames after the handshake: one event (or a sentence that none came), a ping and its pong,
    /// and the closing handshake. Every read is bounded.
    static func afterHandshake(_ client: BlockingClient, wait: Double, maskingKey: () -> [UInt8]) -> [String] {
        var lines: [String] = []
        switch readFrame(client, within: wait) {
        case .frame(let frame):
            // Usually an event (text); on a quiet server it can be the server's own ping.
            let isEvent = frame.first.map { $0 & 0x0F } == 0x1
            lines += ["", isEvent ? "── an event, server → client ──" : "── a frame from the server (no event yet) ──"]
            lines += Inspector.annotateFrame(frame, direction: "server→client")
        case .quiet:
            lines += ["", "── no event within \(Inspector.seconds(wait)) s ──", Inspector.quietSentence(.ws, wait: wait, closed: false)]
        case .closed:
            lines += ["", Inspector.quietSentence(.ws, wait: wait, closed: true)]
            return lines
        }
        // A masked ping from us, and the server's pong.
        let pingPayload = Array("hello".utf8)
        let ping = WebSocketFrameEncoder.encode(opcode: .ping, payload: pingPayload, maskingKey: maskingKey())
        client.send(ping)
        lines += ["", "── a ping, client → server (clients mask every frame, RFC 6455 §5.3) ──"]
        lines += Inspector.annotateFrame(ping, direction: "client→server")
        guard let pong = nextControlFrame(client) else {
            lines += ["", "No pong came within \(Inspector.seconds(promptReply)) s."]
            return lines
        }
        lines += ["", "── the pong, server → client ──"] + Inspector.annotateFrame(pong, direction: "server→client")
        lines.append(Inspector.pongCheck(pong, pingPayload: pingPayload))
        // The closing handshake.
        let close = WebSocketFrameEncoder.encode(opcode: .close, payload: WebSocketFrameEncoder.closePayload(code: 1000, reason: "bye"),
                                                 maskingKey: maskingKey())
        client.send(close)
        lines += ["", "── closing handshake, client → server ──"] + Inspector.annotateFrame(close, direction: "client→server")
        if let reply = nextControlFrame(client) {
            lines += ["", "── the server's close ──"] + Inspector.annotateFrame(reply, direction: "server→client")
        } else {
            lines += ["", "No close frame came back within \(Inspector.seconds(promptReply)) s."]
        }
        return lines
    }

    /// The next pong or close frame, skipping events (text) and the server's own pings.
    static func nextControlFrame(_ client: BlockingClient) -> [UInt8]? {
        while case .frame(let f) = readFrame(client, within: promptReply) {
            let opcode = f.first.map { $0 & 0x0F }
            if opcode == 0xA || opcode == 0x8 { return f }
        }
        return nil
    }

    enum FrameRead {
        case frame([UInt8])
        case quiet
        case closed
    }

    /// Reads exactly one frame's bytes (the header tells the length), waiting at most `seconds`.
    static func readFrame(_ client: BlockingClient, within seconds: Double) -> FrameRead {
        var total: Int?
        let outcome = client.read(until: { b in
            total = frameLength(b)
            return total.map { b.count >= $0 } ?? false
        }, within: seconds)
        switch outcome {
        case .done: return .frame(client.take(total!))
        case .quiet: return .quiet
        case .closed: return .closed
        }
    }

    /// Reads exactly one frame's bytes; throws if none comes within 10 s. (Lesson 6's echo.)
    static func readFrame(_ client: BlockingClient) throws -> [UInt8] {
        guard case .frame(let f) = readFrame(client, within: 10) else {
            throw Failure(description: "no whole frame arrived within 10 s")
        }
        return f
    }

    /// A frame's total length from its first bytes (RFC 6455 §5.2), nil until they are there.
    static func frameLength(_ b: [UInt8]) -> Int? {
        guard b.count >= 2 else { return nil }
        let len7 = Int(b[1] & 0x7F)
        let maskBytes = b[1] & 0x80 != 0 ? 4 : 0
        var headerLen = 2, len = len7
        if len7 == 126 { guard b.count >= 4 else { return nil }; headerLen = 4; len = Int(b[2]) << 8 | Int(b[3]) }
        if len7 == 127 {
            guard b.count >= 10 else { return nil }
            headerLen = 10; len = 0
            for k in 2..<10 { len = len << 8 | Int(b[k]) }
        }
        return headerLen + maskBytes + len
    }
}
