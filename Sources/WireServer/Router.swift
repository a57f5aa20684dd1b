// Routing: which handler answers which request (PROTOCOL.md §2), and the checks every transport
// endpoint shares: methods, query parameters, the client tag, Origin.
import WireCodec
import WireLoop

enum Router {
    static let getMethods = "GET, HEAD"

    static func route(_ request: HTTPRequest, on c: Connection) {
        let path = request.path
        let isGet = request.method == "GET" || request.method == "HEAD"
        if request.method == "OPTIONS", let allow = allowedMethods(path) {
            return preflight(request, c, allow: allow)
        }
        switch path {
        case "/poll", "/longpoll", "/sse", "/ws", "/echo", "/":
            guard isGet else { return methodNotAllowed(request, c, allow: getMethods) }
            guard originAllowed(request, c) else {
                return c.respondError(to: request, status: 403, "Origin not allowed", tag: .none)
            }
            if path == "/" && !isUpgrade(request) {
                c.countRequest(.none)
                return ClassroomPage.serve(request, on: c)
            }
            routeTransport(request, path: path, on: c)
        case "/stats", "/time", "/healthz", "/classroom", "/classroom/stats":
            guard isGet else { return methodNotAllowed(request, c, allow: getMethods) }
            c.countRequest(.none)
            switch path {
            case "/stats": Endpoints.stats(request, on: c)
            case "/time": c.respondJSON(to: request, "{\"ts\":\(c.worker.feed.wallMicros())}")
            case "/healthz": c.respond(to: request, status: 200, contentType: "text/plain", body: Array("ok".utf8), tag: .none)
            case "/classroom/stats": c.respondJSON(to: request, c.worker.server.stats.openJSON())
            default: ClassroomPage.serveTeacherView(request, on: c)
            }
        case "/publish", "/control":
            guard request.method == "POST" else { return methodNotAllowed(request, c, allow: "POST") }
            c.countRequest(.none)
            if path == "/publish" { Endpoints.publish(request, on: c) } else { Endpoints.control(request, on: c) }
        default:
            c.countRequest(.none)
            c.respondError(to: request, status: 404, "no such path: \(path)")
        }
    }

    /// The methods a known path accepts (nil: no such path).
    static func allowedMethods(_ path: String) -> String? {
        switch path {
        case "/poll", "/longpoll", "/sse", "/ws", "/echo", "/", "/stats", "/time", "/healthz", "/classroom", "/classroom/stats": return getMethods
        case "/publish", "/control": return "POST"
        default: return nil
        }
    }

    /// OPTIONS, and the CORS preflight a browser sends before a cross-origin POST with JSON
    /// (Fetch standard §3.2.2): say which methods and headers are fine.
    private static func preflight(_ request: HTTPRequest, _ c: Connection, allow: String) {
        c.countRequest(.none)
        guard originAllowed(request, c) else {
            return c.respondError(to: request, status: 403, "Origin not allowed")
        }
        var extra = "Allow: \(allow), OPTIONS\r\n"
        if request.headers["Origin"] != nil {
            extra += "Access-Control-Allow-Methods: \(allow)\r\nAccess-Control-Allow-Headers: Content-Type, Authorization, Last-Event-ID\r\nAccess-Control-Max-Age: 600\r\n"
        }
        c.respond(to: request, status: 204, contentType: nil, body: [], tag: .none, extraHeaders: extra)
    }

    private static func methodNotAllowed(_ request: HTTPRequest, _ c: Connection, allow: String) {
        c.countRequest(.none)
        c.respondError(to: request, status: 405, "method \(request.method) not allowed on \(request.path)",
                       extraHeaders: "Allow: \(allow)\r\n")
    }

    /// The four transports and /echo: validate the query, tag the request, hand over.
    private static func routeTransport(_ request: HTTPRequest, path: String, on c: Connection) {
        let query = request.query
        let transport: Transport
        switch path {
        case "/poll": transport = .poll
        case "/longpoll": transport = .longpoll
        case "/sse": transport = .sse
        default: transport = .ws      // /ws, /echo and an upgrade to /
        }
        var tag = CounterTag(transport: transport, client: nil)
        if let name = query["client"] {
            guard isValidClientName(name) else {
                c.countRequest(tag)
                return c.respondError(to: request, status: 400,
                                      "client must be 1-64 characters of A-Z a-z 0-9 _ . -", tag: tag)
            }
            tag.client = c.stats.client(name)
        }
        // since, timeout, limit: non-negative integers (PROTOCOL.md §3).
        var numbers: [String: Int] = [:]
        for name in ["since", "timeout", "limit"] {
            guard let text = query[name] else { continue }
            guard let value = nonNegativeInteger(text) else {
                c.countRequest(tag)
                return c.respondError(to: request, status: 400, "\(name) must be a non-negative integer", tag: tag)
            }
            numbers[name] = value
        }
        let since = numbers["since"]
        let limit = min(numbers["limit"] ?? 1000, 1000)
        switch transport {
        case .poll:
            c.countRequest(tag)
            c.answerPoll(request, since: since, limit: limit, tag: tag)
        case .longpoll:
            c.countRequest(tag)
            let timeout = min(numbers["timeout"] ?? 25, 120)
            c.startLongPoll(request, since: since, limit: limit, timeout: timeout, tag: tag)
        case .sse:
            c.countRequest(tag)
            c.startSSE(request, since: since, tag: tag)
        case .ws:
            c.upgradeToWebSocket(request, echo: path == "/echo", since: since, tag: tag)
        }
    }

    static func isUpgrade(_ request: HTTPRequest) -> Bool {
        guard let upgrade = request.headers["Upgrade"] else { return false }
        return headerHasToken(upgrade, "websocket")
    }

    /// A comma-separated header value contains `token` (case-insensitive, RFC 9110 §5.6.1).
    static func headerHasToken(_ value: String, _ token: String) -> Bool {
        value.split(separator: ",").contains { $0.trimmingSpaces().lowercased() == token }
    }

    /// PROTOCOL.md §2: `client=NAME`, 1-64 of [A-Za-z0-9_.-].
    static func isValidClientName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...64).contains(bytes.count) else { return false }
        return bytes.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                || b == UInt8(ascii: "_") || b == UInt8(ascii: ".") || b == UInt8(ascii: "-")
        }
    }

    /// Digits only; a value too large for Int is clamped (it is still a non-negative integer).
    static func nonNegativeInteger(_ text: String) -> Int? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int(text) ?? Int.max
    }

    /// `--allow-origin`: no list allows any; a request without Origin is not from a browser and
    /// is allowed; a page served by us (Origin host = Host) is allowed too.
    static func originAllowed(_ request: HTTPRequest, _ c: Connection) -> Bool {
        let allowed = c.worker.config.allowOrigins
        guard !allowed.isEmpty, let origin = request.headers["Origin"] else { return true }
        if allowed.contains(origin) { return true }
        if let host = request.headers["Host"], origin.hasSuffix("://" + host) { return true }
        return false
    }
}

extension Substring {
    func trimmingSpaces() -> Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return s
    }
}
