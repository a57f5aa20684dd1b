// The HTTP/1.1 side of the conversation: take requests from the parser one at a time, route
// them (Router.route is pure), answer them. RFC 9112 §9.3 keep-alive and pipelining; PROTOCOL.md
// §3 deadlines (408, idle close); §9: the next request is taken only once the previous answer is
// written, and every request is counted once, in `count(_:)`, whatever its answer.
import WireLoop
import WireCodec

/// RFC 9110 §15.2.1: an interim answer, before the final one on the same request.
private let continueResponse = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

extension Conversation {
    // MARK: requests, one at a time (RFC 9112 §9.3 pipelining; PROTOCOL.md §9)

    func takeRequest() {
        guard case .http(let wait) = state, outputQueued == 0 else { return }
        prefaceMatched = -1      // a request was sent: this connection speaks HTTP/1.1
        let request: HTTPRequest?
        do {
            request = try parser.nextRequest()
        } catch {
            attributeRequestBytes(to: .none)
            mayHaveMore = false
            return respondToBadRequest(error as? HTTPError ?? HTTPError(status: 400, reason: "malformed request"))
        }
        guard let request = request else {
            mayHaveMore = false
            // RFC 9110 §10.1.1: the head asked for `100 Continue` before its body is sent. Only
            // the endpoints that take a body (POST /publish, /control, counted under no transport)
            // send it; any other request gets its final answer without one, as §10.1.1 allows,
            // so a transport's bytes_out stays exactly what its socket carried.
            if let head = parser.takeContinueRequest(), Router.allowedMethods(head.path) == "POST" {
                write(continueResponse, .none)
            }
            return setHTTPWait(wait)
        }
        mayHaveMore = true
        handle(request)
        // A request was taken: the next one's 10 s start now (not from the first partial bytes,
        // or a client pipelining for longer than 10 s would get a 408).
        if case .http = state { setHTTPWait(.idle(until: 0)) }
    }

    /// PROTOCOL.md §3: a head must be complete 10 s after the first byte of a request (or after
    /// the connection opened); an idle keep-alive connection is closed after `idleTimeout`.
    private func setHTTPWait(_ wait: HTTPWait) {
        let now = context.now()
        if parser.hasPartialRequest {
            if case .head = wait { return }
            state = .http(.head(until: now + context.headTimeoutNanos))
        } else if case .head = wait, consumedSoFar == 0 {
            return      // the first request's deadline runs from the connection's opening
        } else {
            let until = now + context.idleTimeoutNanos
            if case .idle(until) = wait { return }     // set already in this turn of the loop
            state = .http(.idle(until: until))
        }
    }

    func headTimedOut() {
        if !parser.hasPartialRequest && consumedSoFar > 0 { return end() }   // idle between requests
        respondToBadRequest(HTTPError(status: 408, reason: "request head not complete within \(JSON.number(config.headTimeout)) s"))
    }

    /// Who we are, for the Origin rule; the local address is looked up only when a request
    /// carries an Origin, once per connection.
    func trust(for request: HTTPRequest) -> OriginTrust {
        var local: String?
        if request.headers["Origin"] != nil {
            if cachedLocalHost == nil { cachedLocalHost = .some(localAddress()) }
            local = cachedLocalHost!
        }
        return OriginTrust(allowList: config.allowOrigins, port: context.port, localHost: local)
    }

    private func handle(_ request: HTTPRequest) {
        // PROTOCOL.md §9 --max-buffered: past it, new requests get 503.
        let route = context.isOverBuffered
            ? Route.refuse(status: 503, message: "server busy: too much output queued; try again",
                           extraHeaders: "Retry-After: 1\r\n", transport: nil, client: nil)
            : Router.route(request, trust: trust(for: request))
        // The one place a request is counted, whatever its answer (a 403 or a 503 included).
        let tag = count(counterTag(route.transport, route.client))
        switch route {
        case .poll(let q):
            answerPoll(request, q, tag: tag)
        case .longPoll(let q):
            startLongPoll(request, q, tag: tag)
        case .sse(let q):
            startSSE(request, since: q.since, tag: tag)
        case .webSocket(let q, let echo, let mayPublish):
            upgradeToWebSocket(request, echo: echo, since: q.since, mayPublish: mayPublish, tag: tag)
        case .classroomPage:
            respond(to: request, status: 200, contentType: "text/html; charset=utf-8", body: ClassroomPage.classroomBytes)
        case .teacherView:
            respond(to: request, status: 200, contentType: "text/html; charset=utf-8", body: ClassroomPage.teacherBytes)
        case .stats(let client):
            state = .awaitingStats(request, client.map { .client($0) } ?? .all)
            emit(.gatherStats)
        case .classroomStats:
            state = .awaitingStats(request, .open)
            emit(.gatherStats)
        case .time:
            respondJSON(to: request, "{\"ts\":\(feed.wallMicros())}")   // the feed's clock: serve --test-clock-skew-ms shifts both
        case .healthz:
            respond(to: request, status: 200, contentType: "text/plain", body: Array("ok".utf8))
        case .publish:
            publish(request)
        case .control:
            control(request)
        case .preflight(let allow):
            var extra = "Allow: \(allow), OPTIONS\r\n"
            if request.headers["Origin"] != nil {
                extra += "Access-Control-Allow-Methods: \(allow)\r\nAccess-Control-Allow-Headers: Content-Type, Authorization, Last-Event-ID\r\nAccess-Control-Max-Age: 600\r\n"
            }
            respond(to: request, status: 204, contentType: nil, body: [], extraHeaders: extra)
        case .refuse(let status, let message, let extra, _, _):
            respondError(to: request, status: status, message, tag: tag, extraHeaders: extra)
        }
    }

    // MARK: responses

    /// One fixed-length response. `close` forces `Connection: close`.
    func respond(to request: HTTPRequest, status: Int, contentType: String?, body: [UInt8],
                 tag: CounterTag = .none, extraHeaders: String = "", close forceClose: Bool = false) {
        let keepAlive = request.keepAlive && !forceClose
        write(responseBytes(to: request, status: status, contentType: contentType, body: body,
                            extraHeaders: extraHeaders, keepAlive: keepAlive), tag)
        if !keepAlive { finish() }
    }

    /// The bytes of one fixed-length response: head and (unless HEAD) body.
    func responseBytes(to request: HTTPRequest, status: Int, contentType: String?, body: [UInt8],
                       extraHeaders: String, keepAlive: Bool) -> [UInt8] {
        var head = ResponseHead(status: status, date: context.dateHeaderLine)
        if contentType == "application/json" {
            head.addLine(ResponseHead.contentTypeJSON)     // the common case, prebuilt
        } else if let ct = contentType {
            head.add("Content-Type", ct)
        }
        // RFC 9110 §8.6: no Content-Length in a 204.
        if status != 204 { head.add("Content-Length", String(body.count)) }
        if status == 200 { head.addLine(ResponseHead.noStore) }
        // PROTOCOL.md §9: Access-Control-Allow-Origin only for trusted origins.
        if request.headers["Origin"] != nil, let origin = Router.corsOrigin(request, trust(for: request)) {
            head.add("Access-Control-Allow-Origin", origin)
        }
        if !keepAlive {
            head.addLine(ResponseHead.connectionClose)
        } else if request.version == .http1_0 {
            head.addLine(ResponseHead.connectionKeepAlive)
        }
        head.addRaw(extraHeaders)
        var bytes = head.finish()
        if request.method != "HEAD" { bytes.append(contentsOf: body) }
        return bytes
    }

    func respondJSON(to request: HTTPRequest, status: Int = 200, _ body: String, tag: CounterTag = .none) {
        respond(to: request, status: status, contentType: "application/json", body: Array(body.utf8), tag: tag)
    }

    /// 4xx/5xx with `{"error":"..."}`.
    func respondError(to request: HTTPRequest, status: Int, _ message: String, tag: CounterTag = .none,
                      extraHeaders: String = "", close: Bool = false) {
        respond(to: request, status: status, contentType: "application/json", body: JSON.errorBody(message),
                tag: tag, extraHeaders: extraHeaders, close: close)
    }

    /// The parser gave up (400, 408, 413, 431, 505...): answer and close; its state is unusable.
    func respondToBadRequest(_ error: HTTPError) {
        tag = .none
        let body = JSON.errorBody(error.reason)
        var head = ResponseHead(status: error.status, date: context.dateHeaderLine)
        head.add("Content-Type", "application/json")
        head.add("Content-Length", String(body.count))
        head.addLine(ResponseHead.connectionClose)
        write(head.finish() + body, .none)
        finish()
    }
}
