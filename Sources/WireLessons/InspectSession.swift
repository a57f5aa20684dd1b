// `wirelab inspect`: performs one real exchange and prints its bytes, annotated.
// The bytes shown are the bytes that crossed the socket; nothing is re-created for display.
import WireCodec
import WireLoop

public enum InspectTransport: String, CaseIterable {
    case poll, longpoll, sse, ws
}

public enum InspectSession {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Runs the exchange against host:port and returns the annotated lines.
    public static func run(_ transport: InspectTransport, host: String, port: Int) throws -> [String] {
        let client = try BlockingClient(host: host, port: port)
        let hostHeader = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        switch transport {
        case .poll:
            return try httpExchange(client, target: "/poll?since=0&limit=1&client=inspect-poll", host: hostHeader,
                                    intro: "Short polling: ask, get an answer at once (events or none).")
        case .longpoll:
            return try httpExchange(client, target: "/longpoll?timeout=10&client=inspect-longpoll", host: hostHeader,
                                    intro: "Long polling: the answer waits until there is an event (no since: the next one).")
        case .sse:
            return try sse(client, host: hostHeader)
        case .ws:
            return try webSocket(client, host: hostHeader)
        }
    }

    static func request(_ target: String, host: String, extra: [(String, String)] = []) -> [UInt8] {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: host)
        headers.add(name: "User-Agent", value: "wirelab-inspect")
        for (n, v) in extra { headers.add(name: n, value: v) }
        return HTTPSerializer.request(method: "GET", target: target, headers: headers)
    }

    static func httpExchange(_ client: BlockingClient, target: String, host: String, intro: String) throws -> [String] {
        let req = request(target, host: host)
        client.send(req)
        guard client.read(until: { bytes in
            guard let end = BlockingClient.headEnd(bytes) else { return false }
            let head = String(decoding: bytes[0..<end], as: UTF8.self).lowercased()
            guard let r = head.range(of: "content-length: ") else { return true }
            let digits = head[r.upperBound...].prefix { $0.isNumber }
            return bytes.count >= end + (Int(digits) ?? 0)
        }), let end = BlockingClient.headEnd(client.buffer) else {
            throw Failure(description: "no complete response to GET \(target)")
        }
        let head = client.take(end)
        let body = client.take(client.buffer.count)
        var lines = [intro, "", "── request, client → server ──"]
        lines += Inspector.annotateHead(req, isRequest: true)
        lines += ["", "── response, server → client ──"]
        lines += Inspector.annotateHead(head, isRequest: false)
        lines += Inspector.annotateBody(body)
        lines += ["", "total on the wire (TCP payload): \(req.count) B up, \(head.count + body.count) B down"]
        return lines
    }

    static func sse(_ client: BlockingClient, host: String) throws -> [String] {
        let req = request("/sse?client=inspect-sse", host: host)
        client.send(req)
        // The head, then the first event block ("\n\n" inside a chunk, then the chunk's CRLF).
        guard client.read(until: { bytes in
            guard let end = BlockingClient.headEnd(bytes) else { return false }
            let rest = Array(bytes[end...])
            guard let blank = rest.indices.dropFirst().first(where: { rest[$0] == 0x0A && rest[$0 - 1] == 0x0A }) else { return false }
            return rest.count >= blank + 3 || !String(decoding: bytes[0..<end], as: UTF8.self).contains("chunked")
        }), let end = BlockingClient.headEnd(client.buffer) else {
            throw Failure(description: "no event arrived on /sse (is the server generating events?)")
        }
        let head = client.take(end)
        let stream = client.take(client.buffer.count)
        let chunked = String(decoding: head, as: UTF8.self).lowercased().contains("transfer-encoding: chunked")
        var lines = ["Server-Sent Events: one response that never ends; each event is a block of text lines.",
                     "", "── request, client → server ──"]
        lines += Inspector.annotateHead(req, isRequest: true)
        lines += ["", "── response head, server → client ──"]
        lines += Inspector.annotateHead(head, isRequest: false)
        lines += ["", "── the stream: \(chunked ? "each event is one HTTP chunk" : "blocks until the connection closes") ──"]
        lines += chunked ? Inspector.annotateSSEChunks(stream) : Inspector.annotateSSEBlock(stream)
        return lines
    }

    static func webSocket(_ client: BlockingClient, host: String) throws -> [String] {
        let key = WebSocketHandshake.makeKey()
        let req = request("/ws?client=inspect-ws", host: host, extra: [
            ("Upgrade", "websocket"), ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", key), ("Sec-WebSocket-Version", "13")])
        client.send(req)
        guard client.read(until: { BlockingClient.headEnd($0) != nil }), let end = BlockingClient.headEnd(client.buffer) else {
            throw Failure(description: "no handshake response from /ws")
        }
        let head = client.take(end)
        var lines = ["WebSocket: an HTTP request that turns the connection into a two-way frame channel.",
                     "", "── opening handshake, client → server ──"]
        lines += Inspector.annotateHead(req, isRequest: true)
        lines += ["", "── handshake response, server → client ──"]
        lines += Inspector.annotateHead(head, isRequest: false)
        lines += [""] + Inspector.acceptComputation(key: key)
        let expected = WebSocketHandshake.acceptValue(forKey: key)
        let ok = String(decoding: head, as: UTF8.self).contains("Sec-WebSocket-Accept: \(expected)")
        lines.append("  matches the server's   \(ok ? "yes" : "NO")")

        // One event frame from the server.
        let event = try readFrame(client)
        lines += ["", "── an event, server → client ──"] + Inspector.annotateFrame(event, direction: "server→client")
        // A masked ping from us, and the server's pong.
        let ping = WebSocketFrameEncoder.encode(opcode: .ping, payload: Array("hello".utf8), maskingKey: WebSocketFrameEncoder.makeMaskingKey())
        client.send(ping)
        lines += ["", "── a ping, client → server (clients mask every frame, RFC 6455 §5.3) ──"]
        lines += Inspector.annotateFrame(ping, direction: "client→server")
        var pong = try readFrame(client)
        while pong.first.map({ $0 & 0x0F }) == 0x1 { pong = try readFrame(client) }   // skip further events
        lines += ["", "── the pong, server → client ──"] + Inspector.annotateFrame(pong, direction: "server→client")
        // The closing handshake.
        let close = WebSocketFrameEncoder.encode(opcode: .close, payload: WebSocketFrameEncoder.closePayload(code: 1000, reason: "bye"),
                                                 maskingKey: WebSocketFrameEncoder.makeMaskingKey())
        client.send(close)
        lines += ["", "── closing handshake, client → server ──"] + Inspector.annotateFrame(close, direction: "client→server")
        var reply = try readFrame(client)
        while reply.first.map({ $0 & 0x0F }) == 0x1 { reply = try readFrame(client) }
        lines += ["", "── the server's close ──"] + Inspector.annotateFrame(reply, direction: "server→client")
        return lines
    }

    /// Reads exactly one frame's bytes (the header tells the length).
    static func readFrame(_ client: BlockingClient) throws -> [UInt8] {
        var total: Int?
        let ok = client.read { b in
            guard b.count >= 2 else { return false }
            let len7 = Int(b[1] & 0x7F)
            let maskBytes = b[1] & 0x80 != 0 ? 4 : 0
            var headerLen = 2, len = len7
            if len7 == 126 { guard b.count >= 4 else { return false }; headerLen = 4; len = Int(b[2]) << 8 | Int(b[3]) }
            if len7 == 127 {
                guard b.count >= 10 else { return false }
                headerLen = 10; len = 0
                for k in 2..<10 { len = len << 8 | Int(b[k]) }
            }
            total = headerLen + maskBytes + len
            return b.count >= total!
        }
        guard ok, let n = total else { throw Failure(description: "the connection ended before a whole frame arrived") }
        return client.take(n)
    }
}
