// HTTP/2 with prior knowledge (h2c, RFC 9113 §3.3) as one more phase of the conversation: a
// client whose first bytes are the preface `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n` gets an HTTP/2
// session on the same port as HTTP/1.1 (Conversation.swift spots the preface).
//
// Theory of operation. WireCodec's sans-I/O `HTTP2Connection` does the protocol: frames, HPACK,
// stream states, flow control, the limits (concurrent streams, header list size, CONTINUATION
// and rapid-reset floods). This session feeds it the socket's bytes and turns its actions into
// the conversation's: a complete request on a stream is routed like an HTTP/1.1 request
// (`Router.route`) and answered on that stream (HTTP2Session+Answers.swift); SSE is a DATA
// stream that never ends; a WebSocket (RFC 8441 extended CONNECT) carries the same frames as
// on HTTP/1.1 inside DATA; a long poll is parked per stream.
//
// Byte counting (PROTOCOL.md §11 Counting): each frame is charged to its stream's transport and client;
// the preface and stream-0 frames to the connection (`CounterTag.http2Connection`). Received
// bytes are split by HTTP2FrameCounter; bytes we send by walking the frames of each write.
//
// Bounds (PROTOCOL.md §9, §11): the codec bounds what a peer may make us hold; here, DATA waiting for
// the peer's flow-control window is bounded by `--max-queue` per stream (a push subscriber
// whose window stays closed is dropped like a slow reader), request bodies by 64 KiB.
import WireLoop
import WireCodec

/// One stream of an HTTP/2 session and what it is doing.
final class HTTP2Stream {
    enum Phase {
        /// HEADERS arrived; the request body (DATA) is still coming.
        case receiving(HTTPRequest)
        /// `/stats`: waiting for every loop's counters.
        case awaitingStats(HTTPRequest, Conversation.StatsQuestion)
        case longPoll(LongPollWait)
        case sse(SSEStream)
        case webSocket(WebSocketSession)
    }
    let id: UInt32
    var phase: Phase
    /// Set once the request is routed: whose bytes the stream's frames are.
    var tag: CounterTag?
    /// The peer sent END_STREAM.
    var peerEnded: Bool
    init(id: UInt32, phase: Phase, peerEnded: Bool) { self.id = id; self.phase = phase; self.peerEnded = peerEnded }
}

final class HTTP2Session {
    unowned let conversation: Conversation
    var connection: HTTP2Connection
    private var counter = HTTP2FrameCounter()
    /// Streams with a request in progress or an answer still running (SSE, WebSocket, long poll).
    private(set) var streams: [UInt32: HTTP2Stream] = [:]
    /// Tags of streams we are done with: their late frames (WINDOW_UPDATE, RST_STREAM, DATA still
    /// waiting for window) are still theirs. Bounded FIFO.
    private var endedTags: [UInt32: CounterTag] = [:]
    private var endedOrder: [UInt32] = []
    /// Received bytes of streams not routed yet (a request still arriving).
    private var unroutedIn: [UInt32: Int] = [:]
    private var subscribed = false
    var statsRequested = false
    /// The peer sent GOAWAY, or we did (shutdown): no new streams; close once the last ends.
    var goingAway = false
    /// No stream since then: an idle connection is closed after `idleTimeout` (GOAWAY NO_ERROR).
    var idleSince: Int64
    /// Frames produced while handling one event (a read holding ten requests gives twenty
    /// frames): written together when the event is handled, one write per run of the same
    /// tag instead of one system call per frame.
    private var outBuffer: [UInt8] = []
    private var outRuns: [(end: Int, tag: CounterTag)] = []
    private var depth = 0
    /// Streams whose DATA may still wait for the peer's window in the codec (answered ones
    /// too: a poll body larger than the window waits there after the stream is left).
    private var maybePending: Set<UInt32> = []

    static let maxEndedTags = 512

    init(conversation: Conversation) {
        self.conversation = conversation
        var configuration = HTTP2Connection.Configuration()
        configuration.maxHeaderListSize = conversation.config.maxHeadBytes
        connection = HTTP2Connection(role: .server, configuration: configuration)
        idleSince = conversation.context.now()
    }

    var config: ServerConfig { conversation.config }
    var stats: StatsShard { conversation.stats }

    /// Our preface (SETTINGS with SETTINGS_ENABLE_CONNECT_PROTOCOL = 1, RFC 8441 §3), then the
    /// bytes read so far (the client's preface and whatever followed it).
    func start(with early: [UInt8]) {
        enter(); defer { leaveEvent() }
        stats.addConnection(.http2Connection)
        perform(connection.start())
        early.withUnsafeBytes { received($0) }
    }

    // MARK: bytes in

    func received(_ bytes: UnsafeRawBufferPointer) {
        enter(); defer { leaveEvent() }
        if connection.isFailed { return stats.addBytesIn(bytes.count, .http2Connection) }
        let runs = counter.scan(bytes)
        perform(connection.receive(Array(bytes), now: UInt64(conversation.context.now())))
        // After the actions: requests completed by these bytes are routed, so their tags are known.
        for run in runs {
            if run.streamID == 0 {
                stats.addBytesIn(run.count, .http2Connection)
            } else if let tag = tag(of: run.streamID) {
                stats.addBytesIn(run.count, tag)
            } else {
                unroutedIn[run.streamID, default: 0] += run.count
            }
        }
        settleUnrouted()
    }

    /// Whose bytes a stream's frames are: its route's tag; nil while its request is incomplete.
    private func tag(of id: UInt32) -> CounterTag? {
        if let s = streams[id] { return s.tag }
        return endedTags[id]
    }

    /// Bytes of streams that will never be routed (refused, reset, PRIORITY for an idle stream,
    /// frames after the end) belong to the connection.
    private func settleUnrouted() {
        guard !unroutedIn.isEmpty else { return }
        for (id, n) in unroutedIn where streams[id] == nil && id != counter.partialFrameStream && id != counter.openFieldBlock {
            stats.addBytesIn(n, endedTags[id] ?? .http2Connection)
            unroutedIn[id] = nil
        }
    }

    /// The connection is closing: bytes not charged yet (a partial frame) go to the connection.
    func countClosed() {
        var left = counter.heldHeaderBytes
        for (id, n) in unroutedIn { if let t = tag(of: id) { stats.addBytesIn(n, t) } else { left += n } }
        unroutedIn = [:]
        stats.addBytesIn(left, .http2Connection)
        stats.connectionClosed(.http2Connection)
    }

    // MARK: actions of the codec

    func perform(_ actions: [HTTP2Connection.Action]) {
        for action in actions {
            switch action {
            case .write(let bytes):
                writeFrames(bytes)
            case .headers(let id, let fields, let endStream):
                receivedHeaders(id, fields, endStream: endStream)
            case .data(let id, let bytes, let endStream):
                receivedData(id, bytes, endStream: endStream)
            case .streamReset(let id, _, _):
                // Reset by the peer or by the codec (a stream error): the stream is gone.
                if let s = streams[id] { leave(s) }
            case .goAway:
                // §6.8: the peer will open no more streams; ours may finish.
                goingAway = true
                closeIfDone()
            case .connectionError:
                // The codec queued GOAWAY with the code §5.4.1 names: write it, then close.
                for s in Array(streams.values) { leave(s) }
                conversation.finish()
            }
        }
    }

    /// Frames to write, each run charged to its stream's tag (stream 0 and unknown streams: the
    /// connection). Collected until the event being handled is done (`leaveEvent`).
    private func writeFrames(_ bytes: [UInt8]) {
        let base = outBuffer.count
        if outBuffer.isEmpty { outBuffer = bytes } else { outBuffer += bytes }
        for run in HTTP2FrameCounter.runs(ofFrames: bytes) {
            let tag = outTag(run.streamID)
            if let last = outRuns.last, HTTP2Session.same(last.tag, tag) {
                outRuns[outRuns.count - 1].end = base + run.range.upperBound
            } else {
                outRuns.append((base + run.range.upperBound, tag))
            }
        }
        if depth == 0 { flushOut() }
    }

    /// An event from outside starts: frames wait in `outBuffer` until it is handled.
    func enter() { depth += 1 }

    func leaveEvent() {
        depth -= 1
        guard depth == 0 else { return }
        flushOut()
        // The codec also counts bytes per stream (for clients, which count at the frame); the
        // server counts where bytes cross the socket (HTTP2FrameCounter, the write actions), so
        // the codec's tally is only emptied here, or it would grow with every stream.
        _ = connection.takeByteCounts()
    }

    private func flushOut() {
        guard !outBuffer.isEmpty else { return }
        if outRuns.count == 1 {
            conversation.write(outBuffer, outRuns[0].tag)
        } else {
            var start = 0
            for run in outRuns {
                conversation.write(Array(outBuffer[start..<run.end]), run.tag)
                start = run.end
            }
        }
        outBuffer = []
        outRuns.removeAll(keepingCapacity: true)
    }

    private func outTag(_ id: UInt32) -> CounterTag {
        id == 0 ? .http2Connection : (tag(of: id) ?? .http2Connection)
    }

    static func same(_ a: CounterTag, _ b: CounterTag) -> Bool {
        a.transport == b.transport && a.client === b.client && a.http2 == b.http2
    }

    // MARK: requests

    private func receivedHeaders(_ id: UInt32, _ fields: [HPACKHeaderField], endStream: Bool) {
        if let s = streams[id] {
            // Trailers (§8.1) end the request; their fields are not used.
            if endStream { receivedEnd(s) }
            return
        }
        guard !goingAway, !connection.isFailed else { return }
        idleSince = 0
        let request = HTTP2Session.request(from: fields)
        let s = HTTP2Stream(id: id, phase: .receiving(request), peerEnded: endStream)
        streams[id] = s
        // Extended CONNECT (RFC 8441 §4) is answered at once: its DATA is the WebSocket.
        if endStream || HTTP2Session.isExtendedConnect(fields) { take(s, request) }
    }

    private func receivedData(_ id: UInt32, _ bytes: [UInt8], endStream: Bool) {
        guard let s = streams[id] else { return }
        switch s.phase {
        case .receiving(var request):
            // PROTOCOL.md §3: a body over 64 KiB is 413 (the same bound as HTTP/1.1).
            if request.body.count + bytes.count > config.maxBodyBytes {
                route(s, .none)
                return respondError(s, request, status: 413, "body larger than \(config.maxBodyBytes) bytes")
            }
            // PROTOCOL.md §11: what one connection makes us hold stays near one HTTP/1.1
            // request's: bodies of all streams together at most twice the body limit; a stream
            // past it is refused (REFUSED_STREAM: not processed, the client may retry).
            if bodyBytesHeld + bytes.count > 2 * config.maxBodyBytes {
                leave(s)
                return perform(connection.resetStream(streamID: id, code: .refusedStream))
            }
            request.body += bytes
            s.phase = .receiving(request)
            if endStream { s.peerEnded = true; take(s, request) }
        case .webSocket(let w):
            if !bytes.isEmpty { bytes.withUnsafeBytes { conversation.receivedWebSocketBytes($0, w) } }
            if endStream { receivedEnd(s) }
        default:
            if endStream { receivedEnd(s) }
        }
    }

    /// The peer ended its side of a stream whose answer runs on (a WebSocket whose peer is gone
    /// without a Close: end ours too, RFC 8441 §5 maps TCP FIN to END_STREAM).
    private func receivedEnd(_ s: HTTP2Stream) {
        s.peerEnded = true
        switch s.phase {
        case .receiving(let request): take(s, request)
        case .webSocket(let w):
            if !w.ended { w.ended = true; endStream(s.id) }
        default: break
        }
    }

    // MARK: stream bookkeeping

    /// The request is routed: its bytes (and the bytes held while it arrived) are `tag`'s.
    /// Counted once, like an HTTP/1.1 request (PROTOCOL.md §2 requests, connections).
    func route(_ s: HTTP2Stream, _ tag: CounterTag) {
        s.tag = tag
        conversation.countRequest(tag)
        if let n = unroutedIn.removeValue(forKey: s.id) { stats.addBytesIn(n, tag) }
    }

    /// We are done with the stream (answered, reset, or its subscription ended).
    func leave(_ s: HTTP2Stream) {
        guard streams.removeValue(forKey: s.id) != nil else { return }
        switch s.phase {
        case .webSocket(let w): w.ended = true
        default: break
        }
        let tag = s.tag ?? .http2Connection
        if endedTags.updateValue(tag, forKey: s.id) == nil { endedOrder.append(s.id) }
        if endedOrder.count > HTTP2Session.maxEndedTags {
            let drop = endedOrder.count - HTTP2Session.maxEndedTags / 2
            for old in endedOrder[..<drop] { endedTags[old] = nil }
            endedOrder.removeFirst(drop)
        }
        if let n = unroutedIn.removeValue(forKey: s.id) { stats.addBytesIn(n, tag) }
        if streams.isEmpty { idleSince = conversation.context.now() }
        closeIfDone()
    }

    private func closeIfDone() {
        if goingAway && streams.isEmpty && !conversation.isClosed { conversation.finish() }
    }

    /// A push stream or a parked long poll wants published events (Worker.broadcast).
    func subscribe() {
        guard !subscribed else { return }
        subscribed = true
        conversation.emit(.subscribe(.http2))
    }

    // MARK: sending

    func sendHeaders(_ id: UInt32, _ fields: [HPACKHeaderField], endStream: Bool) {
        do {
            perform(try connection.sendHeaders(streamID: id, fields: fields, endStream: endStream))
        } catch {
            perform(connection.resetStream(streamID: id, code: .internalError))
        }
    }

    /// DATA on a stream, as far as the peer's windows allow; the rest waits in the codec.
    /// PROTOCOL.md §11: `--max-queue` is per connection: DATA waiting for window on all streams
    /// together stays within it. A stream that already waits and would pass it (the peer
    /// does not read it) is reset with CANCEL, which frees what waited.
    func sendData(_ id: UInt32, _ bytes: [UInt8], endStream: Bool) {
        let mine = connection.pendingDataCount(streamID: id)
        let limit = config.maxQueue + HTTP2Session.queueSlack
        if mine + bytes.count > limit || (mine > 0 && pendingTotal + bytes.count > limit) {
            return abortStream(id)
        }
        do {
            perform(try connection.sendData(streamID: id, bytes: bytes, endStream: endStream))
            if connection.pendingDataCount(streamID: id) > 0 { maybePending.insert(id) }
        } catch {
            if let s = streams[id] { leave(s) }
            perform(connection.resetStream(streamID: id, code: .internalError))
        }
    }

    /// Room for a WebSocket Close or the last bytes after a subscriber was found too slow.
    static let queueSlack = 4096

    /// END_STREAM on a stream whose answer runs (SSE ended, WebSocket closed).
    func endStream(_ id: UInt32) {
        sendData(id, [], endStream: true)
        if let s = streams[id] { leave(s) }
    }

    /// A push stream found too slow (PROTOCOL.md §9, §11): END_STREAM if its DATA is out, else
    /// RST_STREAM CANCEL (what waits behind a closed window could never arrive; the client
    /// resumes with Last-Event-ID like any dropped stream).
    func dropSlowStream(_ id: UInt32) {
        if connection.pendingDataCount(streamID: id) > 0 { abortStream(id) } else { endStream(id) }
    }

    /// Drop a stream at once (a WebSocket whose peer never answered our Close).
    func abortStream(_ id: UInt32) {
        if let s = streams[id] { leave(s) }
        perform(connection.resetStream(streamID: id, code: .cancel))
    }

    /// Bytes waiting to go out on a stream: in the codec (window) and in the socket's queue.
    func queued(on id: UInt32) -> Int {
        connection.pendingDataCount(streamID: id) + conversation.outputQueued
    }

    /// Request bodies still arriving, all streams together.
    private var bodyBytesHeld: Int {
        var n = 0
        for s in streams.values { if case .receiving(let r) = s.phase { n += r.body.count } }
        return n
    }

    /// WebSockets open on this connection (each may hold a message of up to --max-message).
    var webSocketCount: Int {
        var n = 0
        for s in streams.values { if case .webSocket = s.phase { n += 1 } }
        return n
    }

    /// At most this many WebSockets per HTTP/2 connection: each may hold a message of up to
    /// `--max-message` while it arrives, and one HTTP/1.1 connection holds one.
    static let maxWebSockets = 16

    /// Bytes waiting for window on all streams (the replay budget counts them).
    var pendingTotal: Int {
        var n = 0
        var drained: [UInt32] = []
        for id in maybePending {
            let p = connection.pendingDataCount(streamID: id)
            if p == 0 { drained.append(id) } else { n += p }
        }
        for id in drained { maybePending.remove(id) }
        return n
    }
}
