// The HTTP/1.1 side of a connection: take complete requests from the parser, route them, and
// write responses. Keep-alive and pipelining (RFC 9112 §9.3): requests are answered in order,
// one at a time; a long poll holds the line until it is answered.
import WireLoop
import WireCodec

extension Connection {
    /// Takes every complete request the parser has, while the connection is in plain HTTP.
    func processRequests() {
        // After a response that ends the connection, later pipelined requests are not read.
        while phase == .http && !closeWhenFlushed {
            let request: HTTPRequest?
            do {
                request = try parser.nextRequest()
            } catch let error as HTTPError {
                attributeRequestBytes(to: .none)
                respondToBadRequest(error)
                return
            } catch {
                respondToBadRequest(HTTPError(status: 400, reason: "malformed request"))
                return
            }
            guard let request = request else { break }
            headDeadline = 0
            Router.route(request, on: self)
        }
        guard phase == .http && !closeWhenFlushed else { return }
        // PROTOCOL.md §3: a head must be complete 10 s after the first byte of a request.
        let now = LoopClock.monotonicNanos()
        if parser.hasPartialRequest {
            if headDeadline == 0 { headDeadline = now + LoopClock.nanos(seconds: worker.config.headTimeout) }
            idleDeadline = 0
        } else if headDeadline == 0 {
            idleDeadline = now + LoopClock.nanos(seconds: worker.config.idleTimeout)
        }
    }

    /// The bytes of the request just taken from the parser belong to `tag`.
    func attributeRequestBytes(to tag: CounterTag) {
        let consumed = parser.consumedByteCount
        let n = consumed - consumedSoFar
        consumedSoFar = consumed
        unattributedIn -= n
        stats.addBytesIn(n, tag)
    }

    /// Counts a request (and the connection, the first time it carries this transport or client).
    func countRequest(_ tag: CounterTag) {
        self.tag = tag
        attributeRequestBytes(to: tag)
        stats.addRequest(tag)
        var connectionTag = CounterTag.none
        if let t = tag.transport, countedTransports & (1 << UInt8(t.rawValue)) == 0 {
            countedTransports |= 1 << UInt8(t.rawValue)
            connectionTag.transport = t
        }
        if let c = tag.client, !countedClients.contains(where: { $0 === c }) {
            countedClients.append(c)
            connectionTag.client = c
        }
        stats.addConnection(connectionTag)
    }

    // MARK: responses

    /// Writes one fixed-length response. `close` forces `Connection: close`.
    func respond(to request: HTTPRequest, status: Int, contentType: String?, body: [UInt8],
                 tag: CounterTag, extraHeaders: String = "", close forceClose: Bool = false) {
        let keepAlive = request.keepAlive && !forceClose
        var head = ResponseHead(status: status, worker: worker)
        if contentType == "application/json" {
            head.addLine(ResponseHead.contentTypeJSON)     // the common case, prebuilt
        } else if let ct = contentType {
            head.add("Content-Type", ct)
        }
        // RFC 9110 §8.6: no Content-Length in a 204.
        if status != 204 { head.add("Content-Length", String(body.count)) }
        if status == 200 { head.addLine(ResponseHead.noStore) }
        if let origin = request.headers["Origin"], !origin.isEmpty {
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
        send(bytes, tag: tag)
        if !keepAlive { closeAfterFlush() }
    }

    func respondJSON(to request: HTTPRequest, status: Int = 200, _ body: String, tag: CounterTag = .none) {
        respond(to: request, status: status, contentType: "application/json", body: Array(body.utf8), tag: tag)
    }

    /// 4xx with `{"error":"..."}`.
    func respondError(to request: HTTPRequest, status: Int, _ message: String, tag: CounterTag = .none,
                      extraHeaders: String = "", close: Bool = false) {
        respond(to: request, status: status, contentType: "application/json", body: JSON.errorBody(message),
                tag: tag, extraHeaders: extraHeaders, close: close)
    }

    /// The parser gave up (400, 413, 431, 505...): answer and close; its state is unusable.
    func respondToBadRequest(_ error: HTTPError) {
        tag = .none
        let body = JSON.errorBody(error.reason)
        var head = ResponseHead(status: error.status, worker: worker)
        head.add("Content-Type", "application/json")
        head.add("Content-Length", String(body.count))
        head.addLine(ResponseHead.connectionClose)
        send(head.finish() + body, tag: .none)
        closeAfterFlush()
    }

    /// PROTOCOL.md §3: head not complete in time: 408, then close.
    func requestTimedOut() {
        headDeadline = 0
        if !parser.hasPartialRequest && consumedSoFar > 0 {
            close()    // idle between requests: close silently
            return
        }
        respondToBadRequest(HTTPError(status: 408, reason: "request head not complete within \(JSON.number(worker.config.headTimeout)) s"))
    }
}

/// Builds a response head straight into bytes: the status line, Date, then fields.
/// The server does not go through `HTTPSerializer.responseHead` (which takes `HTTPHeaders`
/// values) because this runs once per request: here the head is appended into one buffer, with
/// the common lines (status 200, Content-Type, Cache-Control, Date) prebuilt. The wording of
/// the lines is the same (RFC 9112 §4 status line, §5 field lines).
struct ResponseHead {
    private var bytes: [UInt8]

    static let noStore = Array("Cache-Control: no-store\r\n".utf8)
    static let contentTypeJSON = Array("Content-Type: application/json\r\n".utf8)
    static let connectionClose = Array("Connection: close\r\n".utf8)
    static let connectionKeepAlive = Array("Connection: keep-alive\r\n".utf8)

    init(status: Int, worker: Worker) {
        bytes = []
        bytes.reserveCapacity(256)
        bytes += ResponseHead.statusLine(status)
        bytes += worker.dateHeaderLine
    }

    mutating func add(_ name: String, _ value: String) {
        bytes.append(contentsOf: name.utf8)
        bytes.append(UInt8(ascii: ":")); bytes.append(UInt8(ascii: " "))
        bytes.append(contentsOf: value.utf8)
        bytes.append(13); bytes.append(10)
    }
    mutating func addLine(_ line: [UInt8]) { bytes.append(contentsOf: line) }
    mutating func addRaw(_ text: String) { bytes.append(contentsOf: text.utf8) }
    mutating func finish() -> [UInt8] { bytes.append(13); bytes.append(10); return bytes }

    /// "HTTP/1.1 200 OK\r\n", cached for the common codes.
    static func statusLine(_ status: Int) -> [UInt8] {
        switch status {
        case 200: return ok
        default: return Array("HTTP/1.1 \(status) \(HTTPSerializer.reasonPhrase(status))\r\n".utf8)
        }
    }
    private static let ok = Array("HTTP/1.1 200 OK\r\n".utf8)
}
