// `wirelab inspect h2`: a short poll over HTTP/2 with prior knowledge (h2c, RFC 9113 §3.3), frame
// by frame, then the same poll again on a second stream of the same connection. The second
// request's header block shows what HPACK (RFC 7541) is for: the fields the first request
// entered into the dynamic table (§2.3.2) are now one-byte indexes.
//
// The client side is WireCodec's sans-I/O HTTP2Connection in the client role; the bytes shown are
// the bytes that crossed the socket, annotated by Inspector.annotateHTTP2 with one HPACK decoder
// per direction, each keeping its table across the two exchanges as the peer's would.
import WireCodec

extension InspectSession {
    // LESSON: h2-inspect
    static func http2Polls(_ client: BlockingClient, host: String) throws -> [String] {
        var connection = HTTP2Connection(role: .client)
        var upDecoder = HPACKDecoder(), downDecoder = HPACKDecoder()
        var lines = ["HTTP/2 with prior knowledge (h2c): the connection preface, SETTINGS, then each request is a",
                     "stream; headers travel HPACK-compressed in HEADERS frames, bodies in DATA frames (RFC 9113 §4–§6).",
                     "The same poll twice, on streams 1 and 3 of one connection: watch the second header block shrink."]
        var blocks: [Int] = []
        for (round, since) in [0, 0].enumerated() {
            var up: [UInt8] = []
            func take(_ actions: [HTTP2Connection.Action]) -> (ended: Bool, failed: String?) {
                var ended = false, failed: String?
                for a in actions {
                    switch a {
                    case .write(let bytes): up += bytes
                    case .data(_, _, let end), .headers(_, _, let end): ended = ended || end
                    case .streamReset(let id, let code, _): failed = "stream \(id) reset: \(code)"
                    case .goAway(_, let code, _): failed = "GOAWAY \(code)"
                    case .connectionError(let e): failed = "\(e)"
                    }
                }
                return (ended, failed)
            }
            if round == 0 { _ = take(connection.start()) }
            let id = connection.openStream()
            let fields = [HPACKHeaderField(":method", "GET"), HPACKHeaderField(":scheme", "http"),
                          HPACKHeaderField(":authority", host),
                          HPACKHeaderField(":path", "/poll?since=\(since)&limit=1&client=inspect-h2"),
                          HPACKHeaderField("user-agent", "wirelab-inspect"), HPACKHeaderField("accept", "application/json")]
            do { _ = take(try connection.sendHeaders(streamID: id, fields: fields, endStream: true)) } catch {
                throw Failure(description: "cannot send HEADERS: \(error)")
            }
            let request = up
            client.send(request)
            up = []
            // Read until the answer's END_STREAM; the codec answers SETTINGS and PING on the way.
            var down: [UInt8] = []
            var done = false
            while !done {
                let before = client.buffer.count
                let outcome = client.read(until: { $0.count > before }, within: promptReply)
                guard outcome == .done else {
                    throw Failure(description: "no complete HTTP/2 answer on stream \(id) within \(Inspector.seconds(promptReply)) s"
                                  + (outcome == .closed ? " (the server closed the connection)" : ""))
                }
                let bytes = client.take(client.buffer.count)
                down += bytes
                let r = take(connection.receive(bytes))
                if let failed = r.failed { throw Failure(description: failed) }
                done = r.ended
            }
            if !up.isEmpty { client.send(up) }      // SETTINGS ACK, WINDOW_UPDATE
            blocks.append(headerBlockSize(request))
            lines += ["", "── \(round == 0 ? "first" : "second") request, stream \(id): client → server ──"]
            lines += Inspector.annotateHTTP2(request, preface: round == 0, hpack: &upDecoder)
            lines += ["", "── its answer: server → client ──"]
            lines += Inspector.annotateHTTP2(down, preface: false, hpack: &downDecoder)
            if !up.isEmpty {
                lines += ["", "── client → server: the codec's answers to the server's frames ──"]
                lines += Inspector.annotateHTTP2(up, preface: false, hpack: &upDecoder)
            }
        }
        _ = connection.goAway()
        lines += ["", "HPACK: the first request's header block took \(blocks[0]) B, the second \(blocks[1]) B for the same fields"
                  + " (RFC 7541 §2.3: entries added with incremental indexing are sent again as an index)."]
        return lines
    }

    /// Bytes of the HEADERS frames' field blocks in `bytes` (after a preface, if any).
    static func headerBlockSize(_ bytes: [UInt8]) -> Int {
        var rest = bytes[...]
        if rest.starts(with: http2ClientPreface) { rest = rest.dropFirst(http2ClientPreface.count) }
        var decoder = HTTP2FrameDecoder(expectPreface: false, maxFrameSize: HTTP2Settings.largestMaxFrameSize)
        decoder.feed(Array(rest))
        var total = 0
        while let frame = try? decoder.nextFrame() {
            if case .headers(let block, _, _, _, _) = frame.payload { total += block.count }
        }
        return total
    }
}
