// What an HTTP/2 stream answers (PROTOCOL.md §11, the endpoints of §2): the same routes, the same bodies, the same
// event bytes as HTTP/1.1; only the framing differs (RFC 9113 §8.1: HEADERS, then DATA). The
// event's SSE block and WebSocket frame are the ones built at publication (encode once): each
// stream adds only its 9-byte DATA frame header.
//  - /poll, /stats, /time, /healthz, /publish ...: HEADERS + DATA with END_STREAM;
//  - /longpoll: parked per stream until an event or its timeout;
//  - /sse: HEADERS, then one DATA frame per event, never END_STREAM (until dropped or shutdown);
//  - /ws, /echo: RFC 8441 extended CONNECT answered `:status 200`, then WebSocket frames in DATA.
import WireLoop
import WireCodec

extension HTTP2Session {
    /// A complete request: route it and answer on its stream.
    func take(_ s: HTTP2Stream, _ request: HTTPRequest) {
        let c = conversation
        // PROTOCOL.md §9 --max-buffered: past it, new requests get 503.
        if c.context.isOverBuffered {
            route(s, .none)
            return respondError(s, request, status: 503, "server busy: too much output queued; try again",
                                extra: [HPACKHeaderField("retry-after", "1")])
        }
        let answer = Router.route(request, trust: c.trust(for: request))
        // Counted once, for the transport and client the route names (like HTTP/1.1).
        let tag = c.counterTag(answer.transport, answer.client)
        route(s, tag)
        switch answer {
        case .poll(let q):
            sendPollBody(s, request, PollBody(c.pollSlice(q), maxBytes: pollRoom), tag: tag)
        case .longPoll(let q):
            startLongPoll(s, request, q, tag: tag)
        case .sse(let q):
            startSSE(s, request, since: q.since, tag: tag)
        case .webSocket(let q, let echo, let mayPublish):
            guard request.headers["Upgrade"].map({ Router.headerHasToken($0, "websocket") }) == true else {
                // No Upgrade in HTTP/2: a WebSocket is opened by extended CONNECT (RFC 8441 §4).
                // DEVIATION: RFC 9110 §15.5.22 wants an Upgrade field with 426, but RFC 9113
                // §8.2.2 forbids that connection-specific field in HTTP/2; the body says what to do.
                return respondError(s, request, status: 426, "this endpoint speaks WebSocket: over HTTP/2 send an extended CONNECT with :protocol websocket (RFC 8441)")
            }
            guard webSocketCount < HTTP2Session.maxWebSockets else {
                return respondError(s, request, status: 429, "at most \(HTTP2Session.maxWebSockets) WebSockets per HTTP/2 connection")
            }
            startWebSocket(s, request, echo: echo, since: q.since, mayPublish: mayPublish, tag: tag)
        case .classroomPage:
            respond(s, request, status: 200, contentType: "text/html; charset=utf-8", body: ClassroomPage.classroomBytes)
        case .teacherView:
            respond(s, request, status: 200, contentType: "text/html; charset=utf-8", body: ClassroomPage.teacherBytes)
        case .stats(let client):
            awaitStats(s, request, client.map { .client($0) } ?? .all)
        case .classroomStats:
            awaitStats(s, request, .open)
        case .time:
            respond(s, request, status: 200, contentType: "application/json", body: Array("{\"ts\":\(conversation.feed.wallMicros())}".utf8))
        case .healthz:
            respond(s, request, status: 200, contentType: "text/plain", body: Array("ok".utf8))
        case .publish:
            let (status, body) = c.publishAnswer(request)
            respond(s, request, status: status, contentType: "application/json", body: body)
        case .control:
            let (status, body) = c.controlAnswer(request)
            respond(s, request, status: status, contentType: "application/json", body: body)
        case .preflight(let allow):
            var extra = [HPACKHeaderField("allow", "\(allow), OPTIONS")]
            if request.headers["Origin"] != nil {
                extra += [HPACKHeaderField("access-control-allow-methods", allow),
                          HPACKHeaderField("access-control-allow-headers", "Content-Type, Authorization, Last-Event-ID"),
                          HPACKHeaderField("access-control-max-age", "600")]
            }
            respond(s, request, status: 204, contentType: nil, body: [], extra: extra)
        case .refuse(let status, let message, let extraHeaders, _, _):
            respondError(s, request, status: status, message, extra: HTTP2Session.fields(fromHeaderLines: extraHeaders))
        }
    }

    /// The header list as a request value, so that `Router.route` serves both versions:
    /// `:authority` becomes Host, `:path` the target. An extended CONNECT for WebSocket (RFC 8441
    /// §5) is the HTTP/2 form of the GET with `Upgrade: websocket` of RFC 6455 §4.1: it routes as
    /// that (there is no Sec-WebSocket-Key: §5 says it is not used).
    static func request(from fields: [HPACKHeaderField]) -> HTTPRequest {
        var method = "GET", path = "/"
        var headers = HTTPHeaders()
        for f in fields {
            switch f.name {
            case ":method": method = f.value
            case ":path": path = f.value
            case ":authority": headers.add(name: "Host", value: f.value)
            case ":protocol": headers.add(name: "Upgrade", value: f.value)
            case ":scheme": break
            default: headers.add(name: f.name, value: f.value)
            }
        }
        if method == "CONNECT", let proto = headers["Upgrade"], proto.lowercased() == "websocket" { method = "GET" }
        return HTTPRequest(method: method, target: path, version: .http1_1, headers: headers)
    }

    static func isExtendedConnect(_ fields: [HPACKHeaderField]) -> Bool {
        fields.contains { $0.name == ":method" && $0.value == "CONNECT" } && fields.contains { $0.name == ":protocol" }
    }

    // MARK: answers with a body

    /// One complete answer: HEADERS (+ DATA), END_STREAM; the stream is done.
    func respond(_ s: HTTP2Stream, _ request: HTTPRequest, status: Int, contentType: String?, body: [UInt8],
                 extra: [HPACKHeaderField] = []) {
        var fields = head(request, status: status, contentType: contentType)
        // RFC 9110 §8.6: no Content-Length in a 204.
        if status != 204 { fields.append(HPACKHeaderField("content-length", String(body.count))) }
        fields += extra
        let sendBody = !body.isEmpty && request.method != "HEAD"
        sendHeaders(s.id, fields, endStream: !sendBody)
        if sendBody { sendData(s.id, body, endStream: true) }
        // §8.1: an answer complete before the request is may stop the rest with RST_STREAM NO_ERROR.
        if !s.peerEnded && connection.pendingDataCount(streamID: s.id) == 0 {
            perform(connection.resetStream(streamID: s.id, code: .noError))
        }
        leave(s)
    }

    func respondError(_ s: HTTP2Stream, _ request: HTTPRequest, status: Int, _ message: String, extra: [HPACKHeaderField] = []) {
        respond(s, request, status: status, contentType: "application/json", body: JSON.errorBody(message), extra: extra)
    }

    /// `:status`, Date (RFC 9110 §6.6.1), Content-Type, Cache-Control, and
    /// Access-Control-Allow-Origin for trusted origins only (PROTOCOL.md §9).
    private func head(_ request: HTTPRequest, status: Int, contentType: String?) -> [HPACKHeaderField] {
        var fields = [HPACKHeaderField(":status", String(status)), HPACKHeaderField("date", dateValue)]
        if let ct = contentType { fields.append(HPACKHeaderField("content-type", ct)) }
        if status == 200 { fields.append(HPACKHeaderField("cache-control", "no-store")) }
        if request.headers["Origin"] != nil, let origin = Router.corsOrigin(request, conversation.trust(for: request)) {
            fields.append(HPACKHeaderField("access-control-allow-origin", origin))
        }
        return fields
    }

    /// The Date value the HTTP/1.1 answers use (formatted once per second by the context).
    private var dateValue: String {
        let line = conversation.context.dateHeaderLine   // "Date: ...\r\n"
        return String(decoding: line[6..<(line.count - 2)], as: UTF8.self)
    }

    /// "Allow: GET, HEAD\r\n" (the router's HTTP/1.1 extra lines) as HTTP/2 fields: lower-case names
    /// (§8.2.1), and none of the connection-specific ones (§8.2.2: Upgrade is not for HTTP/2).
    static func fields(fromHeaderLines text: String) -> [HPACKHeaderField] {
        text.split(separator: "\r\n").compactMap { line in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            let name = line[..<colon].lowercased()
            guard name != "upgrade" && name != "connection" else { return nil }
            return HPACKHeaderField(name, String(line[line.index(after: colon)...].trimmingSpaces()))
        }
    }

    // MARK: polling

    /// PROTOCOL.md §9: an answer holds as many events as fit in what is left of `--max-queue`
    /// (at least one), counting DATA that waits for window on other streams.
    private var pollRoom: Int { max(1, config.maxQueue - pendingTotal - conversation.outputQueued) }

    private func sendPollBody(_ s: HTTP2Stream, _ request: HTTPRequest, _ body: PollBody, tag: CounterTag) {
        stats.addEvents(body.eventCount, tag)
        respond(s, request, status: 200, contentType: "application/json", body: body.bytes)
    }

    private func startLongPoll(_ s: HTTP2Stream, _ request: HTTPRequest, _ q: TransportQuery, tag: CounterTag) {
        let since = q.since ?? conversation.feed.latestID
        let slice = conversation.feed.events(after: since, limit: q.limit)
        if Conversation.longPollAnswersNow(slice, q) {
            return sendPollBody(s, request, PollBody(slice, maxBytes: pollRoom), tag: tag)
        }
        let deadline = conversation.context.now() + Int64(q.timeout) * 1_000_000_000
        s.phase = .longPoll(LongPollWait(request: request, since: slice.next, limit: q.limit, tag: tag, deadline: deadline))
        subscribe()
        conversation.emit(.schedule(atNanos: nextDeadline() ?? deadline))
    }

    private func answerLongPoll(_ s: HTTP2Stream, _ wait: LongPollWait, _ body: PollBody) {
        sendPollBody(s, wait.request, body, tag: wait.tag)
    }

    /// The earliest parked long poll's deadline (one timer per connection).
    private func nextDeadline() -> Int64? {
        var earliest: Int64?
        for s in streams.values { if case .longPoll(let w) = s.phase { earliest = min(earliest ?? w.deadline, w.deadline) } }
        return earliest
    }

    // MARK: /stats

    private func awaitStats(_ s: HTTP2Stream, _ request: HTTPRequest, _ question: Conversation.StatsQuestion) {
        s.phase = .awaitingStats(request, question)
        if !statsRequested { statsRequested = true; conversation.emit(.gatherStats) }
    }

    /// Every loop's counters arrived: answer every stream that asked.
    func statsGathered(_ totals: StatsTotals, uptime: Double) {
        enter(); defer { leaveEvent() }
        statsRequested = false
        for s in Array(streams.values) {
            guard case .awaitingStats(let request, let question) = s.phase else { continue }
            respond(s, request, status: 200, contentType: "application/json",
                    body: Array(conversation.statsBody(totals, uptime: uptime, question).utf8))
        }
    }

    // MARK: SSE

    private func startSSE(_ s: HTTP2Stream, _ request: HTTPRequest, since: Int?, tag: CounterTag) {
        var fields = head(request, status: 200, contentType: "text/event-stream")
        fields.append(HPACKHeaderField("x-accel-buffering", "no"))
        if request.method == "HEAD" {
            sendHeaders(s.id, fields, endStream: true)
            return leave(s)
        }
        sendHeaders(s.id, fields, endStream: false)
        let from = conversation.sseResumePoint(request, since: since)
        let stream = SSEStream(chunked: false, tag: tag, lastSentID: from ?? conversation.feed.latestID,
                               lastWrite: conversation.context.now(), catchingUp: from != nil)
        stream.http2Stream = s.id
        s.phase = .sse(stream)
        subscribe()
        if stream.catchingUp { conversation.pumpSSE(stream) }
    }

    // MARK: WebSocket (RFC 8441)

    private func startWebSocket(_ s: HTTP2Stream, _ request: HTTPRequest, echo: Bool, since: Int?, mayPublish: Bool,
                                tag: CounterTag) {
        // RFC 8441 §5: "the server ... responds with a 200"; the stream then carries the frames.
        sendHeaders(s.id, [HPACKHeaderField(":status", "200"), HPACKHeaderField("date", dateValue)], endStream: false)
        let w = WebSocketSession(echo: echo, mayPublish: mayPublish, tag: tag, config: config, now: conversation.context.now())
        w.http2Stream = s.id
        s.phase = .webSocket(w)
        if !echo {
            subscribe()
            conversation.startWebSocketFeed(w, since: since)
        }
    }

    // MARK: events, timers, draining

    /// A published event (Worker.broadcast): to each push stream and parked long poll.
    func eventPublished(_ event: PublishedEvent) {
        enter(); defer { leaveEvent() }
        for s in Array(streams.values) {
            switch s.phase {
            case .sse(let stream): conversation.deliver(event, toSSE: stream)
            case .webSocket(let w): conversation.deliver(event, toWebSocket: w)
            case .longPoll(let wait):
                let body = conversation.makeLongPollBody(wait)
                if body.eventCount > 0 || wait.limit == 0 { answerLongPoll(s, wait, body) }
            default: break
            }
        }
    }

    /// Timeouts and heartbeats, per stream; an idle connection goes away after `idleTimeout`.
    func timer(now: Int64) {
        if streams.isEmpty {
            if idleSince > 0 && now - idleSince >= LoopClock.nanos(seconds: config.idleTimeout) { goAway() }
            return
        }
        enter(); defer { leaveEvent() }
        var answered = false
        for s in Array(streams.values) {
            switch s.phase {
            case .longPoll(let wait) where now >= wait.deadline:
                answerLongPoll(s, wait, conversation.makeLongPollBody(wait))
                answered = true
            case .sse(let stream): conversation.sseHeartbeat(stream, now: now)
            case .webSocket(let w): conversation.webSocketTimer(w, now: now)
            default: break
            }
        }
        // One timer per connection: the next parked long poll's deadline.
        if answered, let next = nextDeadline() { conversation.emit(.schedule(atNanos: next)) }
    }

    /// Replays (SSE `since`, WebSocket `since`) go on as the socket takes what was queued.
    var wantsDrained: Bool {
        streams.values.contains { s in
            switch s.phase {
            case .sse(let stream): return stream.catchingUp
            case .webSocket(let w): return w.catchingUp
            default: return false
            }
        }
    }

    func outputDrained() {
        enter(); defer { leaveEvent() }
        for s in Array(streams.values) where connection.pendingDataCount(streamID: s.id) == 0 {
            switch s.phase {
            case .sse(let stream) where stream.catchingUp: conversation.pumpSSE(stream)
            case .webSocket(let w) where w.catchingUp: conversation.pumpWebSocket(w)
            default: break
            }
        }
    }

    /// GOAWAY NO_ERROR (§6.8): no new streams; close once the open ones end.
    func goAway() {
        enter(); defer { leaveEvent() }
        goingAway = true
        perform(connection.goAway(code: .noError))
        for s in Array(streams.values) { if case .receiving = s.phase { leave(s) } }
        if streams.isEmpty { conversation.finish() }
    }

    /// Server shutdown (PROTOCOL.md §4): WebSockets get 1001, streams end, long polls are answered.
    func shutdown() {
        enter(); defer { leaveEvent() }
        for s in Array(streams.values) {
            switch s.phase {
            case .webSocket(let w): conversation.failWebSocket(w, .goingAway, "server shutting down")
            case .sse(let stream): conversation.endSSE(stream)
            case .longPoll(let wait): answerLongPoll(s, wait, conversation.makeLongPollBody(wait))
            default: break
            }
        }
        goAway()
        conversation.finish()
    }

    /// Lessons' "network drop": does this connection carry a stream of `transport`?
    func carries(_ transport: Transport) -> Bool {
        streams.values.contains { s in
            switch s.phase {
            case .sse: return transport == .sse
            case .webSocket: return transport == .ws
            default: return false
            }
        }
    }
}
