// Server-Sent Events (PROTOCOL.md §2, WHATWG HTML §9.2): one response that never ends.
// HTTP/1.1 streams it with chunked transfer coding (RFC 9112 §7.1), one chunk per event;
// HTTP/1.0 has no chunks, so the stream is delimited by closing the connection.
import WireLoop
import WireCodec

struct SSEStream {
    var chunked: Bool
    var lastSentID: Int
    var lastWrite: Int64
}

extension Connection {
    // LESSON: sse-stream
    func startSSE(_ request: HTTPRequest, since: Int?, tag: CounterTag) {
        let chunked = request.version != .http1_0
        var head = ResponseHead(status: 200, worker: worker)
        head.add("Content-Type", "text/event-stream")
        head.addLine(ResponseHead.noStore)
        head.add("X-Accel-Buffering", "no")
        if let origin = request.headers["Origin"], !origin.isEmpty {
            head.add("Access-Control-Allow-Origin", origin)
        }
        if chunked {
            head.add("Transfer-Encoding", "chunked")
        } else {
            head.addLine(ResponseHead.connectionClose)
        }
        var bytes = head.finish()
        if request.method == "HEAD" {
            // RFC 9110 §9.3.2: the same head as GET, no body; the connection stays in plain HTTP.
            return send(bytes, tag: tag)
        }

        // `serve --sse-retry MS`: the stream opens with `retry: MS` (WHATWG HTML §9.2.6: "set the
        // event stream's reconnection time to that integer"), so an EventSource that loses the
        // stream reconnects after MS ms, with Last-Event-ID. Counted like any other stream byte.
        if let ms = worker.config.sseRetryMillis {
            let block = SSEStream.retryBlock(ms)
            bytes += chunked ? HTTPSerializer.chunk(block) : block
        }

        // LESSON: sse-resume
        // A Last-Event-ID header (sent by EventSource on reconnect) wins over `since`.
        var resumeFrom = since
        if let last = request.headers["Last-Event-ID"], let id = Router.nonNegativeInteger(last.trimmingSpacesString()) {
            resumeFrom = id
        }
        let feed = worker.feed
        var lastSent = feed.latestID
        var replayed = 0
        if let from = resumeFrom {
            let slice = feed.events(after: from, limit: Int.max)
            for e in slice.events { bytes += chunked ? e.sseChunk : e.sseBlock }
            replayed = slice.events.count
            lastSent = slice.latest
        }
        phase = .sse
        sse = SSEStream(chunked: chunked, lastSentID: lastSent, lastWrite: LoopClock.monotonicNanos())
        worker.sseSubscribers.add(self)
        stats.addEvents(replayed, tag)
        send(bytes, tag: tag)
    }

    func deliverToSSE(_ event: PublishedEvent) {
        guard phase == .sse, var s = sse, event.id > s.lastSentID else { return }
        s.lastSentID = event.id
        s.lastWrite = LoopClock.monotonicNanos()
        sse = s
        stats.addEvents(1, tag)
        send(s.chunked ? event.sseChunk : event.sseBlock, tag: tag)
    }

    /// PROTOCOL.md §2: during silence, `: hb\n\n` every `heartbeat` seconds.
    // LESSON: sse-heartbeat
    func sseHeartbeat(now: Int64, heartbeat: Int64) {
        guard var s = sse, now - s.lastWrite >= heartbeat else { return }
        s.lastWrite = now
        sse = s
        send(s.chunked ? SSEStream.heartbeatChunk : SSEStream.heartbeat, tag: tag)
    }

    /// Server shutdown: end the stream properly (last chunk), then close.
    func sseShutdown() {
        if sse?.chunked == true { send(HTTPSerializer.lastChunk, tag: tag) }
        closeAfterFlush()
    }
}

extension SSEStream {
    static let heartbeat = SSEEncoder.comment("hb")
    static let heartbeatChunk = HTTPSerializer.chunk(SSEEncoder.comment("hb"))
    /// `retry: MS` and the blank line that ends the block: no event is dispatched (§9.2.6).
    static func retryBlock(_ ms: Int) -> [UInt8] { Array("retry: \(ms)\n\n".utf8) }
}

extension String {
    func trimmingSpacesString() -> String { String(Substring(self).trimmingSpaces()) }
}
