// Routing (PROTOCOL.md §2): which answer a request gets, decided from the request alone.
// `route` is a pure function: it reads the request and the trust settings and returns a `Route`;
// the conversation (Conversation.swift) acts on it. The checks every transport endpoint shares
// live here too: methods, query parameters, the `client=` tag, and who may do what (§9).
import WireCodec

/// What a request asks for, with its parameters checked.
enum Route {
    case poll(TransportQuery)
    case longPoll(TransportQuery)
    case sse(TransportQuery)
    /// /ws, /echo and an upgrade to /; `mayPublish`: the page's Origin may use `publish` (§9).
    case webSocket(TransportQuery, echo: Bool, mayPublish: Bool)
    case classroomPage, teacherView
    case stats(client: String?), classroomStats, time, healthz
    case publish, control
    /// OPTIONS / CORS preflight (Fetch standard §3.2.2).
    case preflight(allow: String)
    /// An error answer (400, 403, 404, 405) counted for this transport and client. `indirect`
    /// (boxed): PERF, so a Route is small and the common routes copy little.
    indirect case refuse(status: Int, message: String, extraHeaders: String, transport: Transport?, client: String?)
}

extension Route {
    /// Whose counters the request goes to (PROTOCOL.md §2 /stats): its transport and client.
    var transport: Transport? {
        switch self {
        case .poll: return .poll
        case .longPoll: return .longpoll
        case .sse: return .sse
        case .webSocket: return .ws
        case .refuse(_, _, _, let t, _): return t
        default: return nil
        }
    }
    var client: String? {
        switch self {
        case .poll(let q), .longPoll(let q), .sse(let q), .webSocket(let q, _, _): return q.client
        case .refuse(_, _, _, _, let c): return c
        default: return nil
        }
    }
}

/// The checked query of a transport endpoint.
struct TransportQuery {
    var transport: Transport
    var client: String?
    var since: Int?
    var limit = 1000
    var timeout = 25
}

/// Who the server is, for the Origin rule (PROTOCOL.md §9).
struct OriginTrust {
    /// `--allow-origin` values.
    var allowList: [String]
    /// The port the server listens on.
    var port: Int
    /// The literal IP address the connection arrived at ("10.0.0.5", "[fe80::1]"), if known.
    var localHost: String?
}

enum Router {
    static let getMethods = "GET, HEAD"

    static func route(_ request: HTTPRequest, trust: OriginTrust) -> Route {
        let path = request.path
        let isGet = request.method == "GET" || request.method == "HEAD"
        if request.method == "OPTIONS", let allow = allowedMethods(path) {
            let stateChanging = allow == "POST"
            guard originAllowed(request, trust, stateChanging: stateChanging) else { return forbidden() }
            return .preflight(allow: allow)
        }
        switch path {
        case "/poll", "/longpoll", "/sse", "/ws", "/echo", "/":
            guard isGet else { return methodNotAllowed(request, allow: getMethods) }
            guard originAllowed(request, trust, stateChanging: false) else {
                // Counted like every answer, for the transport and client it asked for.
                let client = request.query["client"].flatMap { isValidClientName($0) ? $0 : nil }
                return path == "/" && !isUpgrade(request) ? forbidden() : forbidden(transportOf(path), client)
            }
            if path == "/" && !isUpgrade(request) { return .classroomPage }
            return routeTransport(request, path: path, trust: trust)
        case "/stats", "/time", "/healthz", "/classroom", "/classroom/stats":
            guard isGet else { return methodNotAllowed(request, allow: getMethods) }
            switch path {
            case "/stats":
                let name = request.query["client"]
                if let name = name, !isValidClientName(name) { return badClient(transport: nil) }
                return .stats(client: name)
            case "/time": return .time
            case "/healthz": return .healthz
            case "/classroom/stats": return .classroomStats
            default: return .teacherView
            }
        case "/publish", "/control":
            guard request.method == "POST" else { return methodNotAllowed(request, allow: "POST") }
            // PROTOCOL.md §9: a state-changing request from a browser comes from our own origin.
            guard originAllowed(request, trust, stateChanging: true) else { return forbidden() }
            return path == "/publish" ? .publish : .control
        default:
            return .refuse(status: 404, message: "no such path: \(path)", extraHeaders: "", transport: nil, client: nil)
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

    private static func forbidden(_ transport: Transport? = nil, _ client: String? = nil) -> Route {
        .refuse(status: 403, message: "Origin not allowed", extraHeaders: "", transport: transport, client: client)
    }

    static func transportOf(_ path: String) -> Transport {
        switch path {
        case "/poll": return .poll
        case "/longpoll": return .longpoll
        case "/sse": return .sse
        default: return .ws      // /ws, /echo and an upgrade to /
        }
    }

    private static func badClient(transport: Transport?) -> Route {
        .refuse(status: 400, message: "client must be 1-64 characters of A-Z a-z 0-9 _ . -", extraHeaders: "",
                transport: transport, client: nil)
    }

    private static func methodNotAllowed(_ request: HTTPRequest, allow: String) -> Route {
        .refuse(status: 405, message: "method \(request.method) not allowed on \(request.path)",
                extraHeaders: "Allow: \(allow)\r\n", transport: nil, client: nil)
    }

    /// The four transports and /echo: validate the query, tag the request.
    private static func routeTransport(_ request: HTTPRequest, path: String, trust: OriginTrust) -> Route {
        let query = request.query
        var q = TransportQuery(transport: transportOf(path))
        if let name = query["client"] {
            guard isValidClientName(name) else { return badClient(transport: q.transport) }
            q.client = name
        }
        // since, timeout, limit: non-negative integers (PROTOCOL.md §3); limit and timeout clamped (§2).
        // (Most requests have no query at all: nothing to look up.)
        if !query.isEmpty {
            for name in ["since", "timeout", "limit"] {
                guard let text = query[name] else { continue }
                guard let value = nonNegativeInteger(text) else {
                    return .refuse(status: 400, message: "\(name) must be a non-negative integer", extraHeaders: "",
                                   transport: q.transport, client: q.client)
                }
                switch name {
                case "since": q.since = value
                case "timeout": q.timeout = min(value, 120)
                default: q.limit = min(value, 1000)
                }
            }
        }
        switch q.transport {
        case .poll: return .poll(q)
        case .longpoll: return .longPoll(q)
        case .sse: return .sse(q)
        case .ws: return .webSocket(q, echo: path == "/echo", mayPublish: originAllowed(request, trust, stateChanging: true))
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

    // MARK: trust (PROTOCOL.md §9)

    /// A request without `Origin` is not from a browser: allowed (the token / loopback rule of
    /// /control still applies). With `Origin`:
    ///  - state-changing requests: only our own origin or an `--allow-origin` one;
    ///  - reading requests: anyone, unless `--allow-origin` lists who may (PROTOCOL.md §9).
    static func originAllowed(_ request: HTTPRequest, _ trust: OriginTrust, stateChanging: Bool) -> Bool {
        guard let origin = request.headers["Origin"] else { return true }
        if !stateChanging && trust.allowList.isEmpty { return true }
        return isTrusted(origin, trust)
    }

    /// The origin a response may name in `Access-Control-Allow-Origin`: only a trusted one.
    static func corsOrigin(_ request: HTTPRequest, _ trust: OriginTrust) -> String? {
        guard let origin = request.headers["Origin"], !origin.isEmpty, isTrusted(origin, trust) else { return nil }
        return origin
    }

    /// Listed with `--allow-origin`, or our own: `http://` + a loopback name or the literal
    /// address the connection arrived at, with our port. Never a DNS name (a rebinding page
    /// has Host and Origin both `evil.example`, so Host proves nothing).
    static func isTrusted(_ origin: String, _ trust: OriginTrust) -> Bool {
        if trust.allowList.contains(origin) { return true }
        guard let (host, port) = httpOriginHostPort(origin), port == trust.port else { return false }
        if host == "localhost" || host == "[::1]" || isLoopbackIPv4(host) { return true }
        return host == trust.localHost
    }

    /// "http://host[:port]" -> (host, port); RFC 6454 §4: the default port of http is 80.
    static func httpOriginHostPort(_ origin: String) -> (String, Int)? {
        let lower = origin.lowercased()
        guard lower.hasPrefix("http://") else { return nil }
        let rest = lower.dropFirst(7)
        guard !rest.isEmpty, !rest.contains("/"), !rest.contains("@") else { return nil }
        // "[::1]:8080": the port follows the closing bracket.
        let hostEnd = rest.hasPrefix("[") ? (rest.firstIndex(of: "]").map { rest.index(after: $0) } ?? rest.endIndex) : (rest.firstIndex(of: ":") ?? rest.endIndex)
        let host = String(rest[rest.startIndex..<hostEnd])
        let portText = rest[hostEnd...]
        if portText.isEmpty { return (host, 80) }
        guard portText.first == ":", let port = Int(portText.dropFirst()), (0...65535).contains(port) else { return nil }
        return (host, port)
    }

    /// 127.0.0.0/8 written as a dotted quad.
    static func isLoopbackIPv4(_ host: String) -> Bool {
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts.allSatisfy({ !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isASCIIDigit) && Int($0)! <= 255 }) else { return false }
        return parts[0] == "127"
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

extension Substring {
    func trimmingSpaces() -> Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return s
    }
}
