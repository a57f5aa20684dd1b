// Server-Sent Events (PROTOCOL.md §2, WHATWG HTML §9.2): one response that never ends.
// HTTP/1.1 streams it with chunked transfer coding (RFC 9112 §7.1), one chunk per event;
// HTTP/1.0 has no chunks, so the stream is delimited by closing the connection.
// PROTOCOL.md §9: a replay is paced by the output queue (written as the socket takes it), and a
// live subscriber whose queue passes `--max-queue` is dropped: the stream ends with its last
// chunk, and the client resumes with Last-Event-ID.
import WireLoop
import WireCodec

/// A class: the broadcast reads `lastSentID` for every subscriber without copying.
final class SSEStream {
    let chunked: Bool
    let tag: CounterTag
    var lastSentID: Int
    var lastWrite: Int64
    /// Still replaying retained events (they are written as the output queue drains).
    var catchingUp: Bool
    /// Bytes the client sent after its request (read and dropped; bounded, PROTOCOL.md §9).
    var inputSeen = 0
    /// Set when the stream rides an HTTP/2 stream: its blocks go out as DATA on it (HTTP2Session).
    var http2Stream: UInt32?
    init(chunked: Bool, tag: CounterTag, lastSentID: Int, lastWrite: Int64, catchingUp: Bool) {
        self.chunked = chunked; self.tag = tag; self.lastSentID = lastSentID; self.lastWrite = lastWrite
        self.catchingUp = catchingUp
    }

    static let heartbeat = SSEEncoder.comment("hb")
    static let heartbeatChunk = HTTPSerializer.chunk(SSEEncoder.comment("hb"))
    /// Events fetched from the history per step of a replay.
    static let replayStep = 64
}

extension Conversation {
    // LESSON: sse-stream
    func startSSE(_ request: HTTPRequest, since: Int?, tag: CounterTag) {
        let chunked = request.version != .http1_0
        var head = ResponseHead(status: 200, date: context.dateHeaderLine)
        head.add("Content-Type", "text/event-stream")
        head.addLine(ResponseHead.noStore)
        head.add("X-Accel-Buffering", "no")
        if let origin = Router.corsOrigin(request, trust(for: request)) {
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
            return write(bytes, tag)
        }

        // `serve --sse-retry MS`: the stream opens with `retry: MS` (WHATWG HTML §9.2.6: "set the
        // event stream's reconnection time to that integer"), so an EventSource that loses the
        // stream reconnects after MS ms, with Last-Event-ID. Counted like any other stream byte.
        if let ms = config.sseRetryMillis {
            let block = SSEStream.retryBlock(ms)
            bytes += chunked ? HTTPSerializer.chunk(block) : block
        }

        let from = sseResumePoint(request, since: since)
        let stream = SSEStream(chunked: chunked, tag: tag, lastSentID: from ?? feed.latestID,
                               lastWrite: context.now(), catchingUp: from != nil)
        state = .sse(stream)
        emit(.subscribe(.sse))
        write(bytes, tag)
        if stream.catchingUp { pumpSSE(stream) }
    }

    /// Where a stream starts replaying (nil: live only, from the latest event).
    // LESSON: sse-resume
    func sseResumePoint(_ request: HTTPRequest, since: Int?) -> Int? {
        // A Last-Event-ID header (sent by EventSource on reconnect) wins over `since`.
        var resumeFrom = since
        if let last = request.headers["Last-Event-ID"], let id = Router.nonNegativeInteger(last.trimmingSpacesString()) {
            resumeFrom = id
        }
        let latest = feed.latestID
        // A client ahead of us (the server restarted) starts over from the oldest retained event.
        return resumeFrom.map { $0 > latest ? 0 : $0 }
    }

    /// Replay: write retained events after `lastSentID` while the queue has room (half of
    /// `--max-queue`); the rest follows as the socket takes it (`outputDrained`).
    func pumpSSE(_ s: SSEStream) {
        let (out, sent) = replay(after: &s.lastSentID, catchingUp: &s.catchingUp) { s.chunked ? $0.sseChunk : $0.sseBlock }
        stats.addEvents(sent, s.tag)
        writeSSE(out, s)
    }

    /// An SSE stream's bytes: on its socket, or as DATA on its HTTP/2 stream.
    func writeSSE(_ bytes: [UInt8], _ s: SSEStream) {
        if let id = s.http2Stream { if !bytes.isEmpty { http2Session?.sendData(id, bytes, endStream: false) } } else { write(bytes, s.tag) }
    }

    /// The bytes of retained events after `lastSentID` that fit in half the queue; `catchingUp`
    /// turns false once the latest event is among them.
    func replay(after lastSentID: inout Int, catchingUp: inout Bool,
                _ framing: (PublishedEvent) -> [UInt8]) -> ([UInt8], Int) {
        var out: [UInt8] = []
        var sent = 0
        let budget = config.maxQueue / 2
        let queued = outputQueued + (http2Session?.pendingTotal ?? 0)
        while out.count + queued < budget {
            let slice = feed.events(after: lastSentID, limit: SSEStream.replayStep)
            for e in slice.events {
                out += framing(e)
                sent += 1
                lastSentID = e.id
                if out.count + queued >= budget { break }
            }
            if slice.events.isEmpty || lastSentID >= slice.latest {
                lastSentID = max(lastSentID, slice.latest)
                catchingUp = false
                break
            }
        }
        return (out, sent)
    }

    func deliverToSSE(_ event: PublishedEvent) {
        guard case .sse(let s) = state else { return }
        deliver(event, toSSE: s)
    }

    func deliver(_ event: PublishedEvent, toSSE s: SSEStream) {
        guard !s.catchingUp, event.id > s.lastSentID else { return }
        let bytes = s.chunked ? event.sseChunk : event.sseBlock
        let queued = s.http2Stream.flatMap { http2Session?.queued(on: $0) } ?? outputQueued
        if queued + bytes.count > config.maxQueue {
            // PROTOCOL.md §9: too slow. The backlog is dropped and the stream ends; it resumes
            // with Last-Event-ID and loses nothing retained. (On HTTP/2 the connection's queue
            // holds other streams' frames too: only this stream ends, or is reset if its DATA
            // waits for a window the peer does not open.)
            if let id = s.http2Stream { return http2Session?.dropSlowStream(id) ?? () }
            emit(.dropQueuedOutput)
            return endSSE(s)
        }
        s.lastSentID = event.id
        s.lastWrite = context.now()
        stats.addEvents(1, s.tag)
        writeSSE(bytes, s)
    }

    /// PROTOCOL.md §2: during silence, `: hb\n\n` every `heartbeat` seconds.
    // LESSON: sse-heartbeat
    func sseHeartbeat(_ s: SSEStream, now: Int64) {
        guard now - s.lastWrite >= LoopClock.nanos(seconds: config.heartbeat), outputQueued == 0 else { return }
        s.lastWrite = now
        writeSSE(s.chunked ? SSEStream.heartbeatChunk : SSEStream.heartbeat, s)
    }

    /// End the stream properly (last chunk), then close.
    func endSSE(_ s: SSEStream) {
        if let id = s.http2Stream { return http2Session?.endStream(id) ?? () }   // END_STREAM
        if s.chunked { write(HTTPSerializer.lastChunk, s.tag) }
        finish()
    }
}

extension SSEStream {
    /// `retry: MS` and the blank line that ends the block: no event is dispatched (§9.2.6).
    static func retryBlock(_ ms: Int) -> [UInt8] { Array("retry: \(ms)\n\n".utf8) }
}
