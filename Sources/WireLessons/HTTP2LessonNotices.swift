// Lesson 12's numbers and the sentences they support. Pure: the runner (HTTP2Lesson.swift)
// measures, this file words; the tests feed it contrasting numbers and check every claim
// ("smaller", "cheaper", "the seventh waited", "all seven flowed") follows them.
import WireMeasure

/// What lesson 12 measured.
public struct HTTP2LessonNumbers {
    /// One transport at one rate over both HTTP versions.
    public struct Row: Equatable {
        public var rate: Double
        public var transport: RaceTransport
        /// Bytes per event (TCP payload) over HTTP/1.1 and over HTTP/2 (streams' frames).
        public var http1: Double?
        public var http2: Double?
        public var connections1: Int
        public var connections2: Int
        public init(rate: Double, transport: RaceTransport, http1: Double?, http2: Double?, connections1: Int, connections2: Int) {
            self.rate = rate; self.transport = transport; self.http1 = http1; self.http2 = http2
            self.connections1 = connections1; self.connections2 = connections2
        }
    }
    /// Polls over one HTTP/2 connection: the bytes of the first poll's stream (its HEADERS and
    /// DATA frames, each way) and the mean of the rest; an HTTP/1.1 poll exchange for comparison.
    public struct Probe: Equatable {
        public var polls: Int
        public var firstUp: Int, firstDown: Int
        public var restUp: Double, restDown: Double
        public var http1Up: Double, http1Down: Double
        public init(polls: Int, firstUp: Int, firstDown: Int, restUp: Double, restDown: Double, http1Up: Double, http1Down: Double) {
            self.polls = polls; self.firstUp = firstUp; self.firstDown = firstDown; self.restUp = restUp
            self.restDown = restDown; self.http1Up = http1Up; self.http1Down = http1Down
        }
    }
    /// Events each of the page's EventSources received.
    public struct Streams: Equatable {
        public var protocolName: String
        public var counts: [Int]
        public init(protocolName: String, counts: [Int]) { self.protocolName = protocolName; self.counts = counts }
        public var flowing: Int { counts.filter { $0 > 0 }.count }
    }

    public var rows: [Row] = []
    public var probe: Probe?
    /// --share at the last rate: connections for all four transports.
    public var sharedConnections: Int?
    public var direct: Streams?
    public var nginx: Streams?
    /// Why the browser part did not run, if it did not.
    public var browserError: String?
    public init() {}
}

enum HTTP2Notices {
    static func sentences(_ n: HTTP2LessonNumbers) -> [String] {
        hpack(n) + polling(n) + framing(n) + connections(n) + streams(n)
    }

    /// HPACK: the first request against the rest.
    static func hpack(_ n: HTTP2LessonNumbers) -> [String] {
        guard let p = n.probe, p.polls > 1 else { return [] }
        let first = Double(p.firstUp), rest = p.restUp
        var text = "Over one HTTP/2 connection the first poll request cost \(Say.bytes(first)) (its HEADERS frame), the next \(p.polls - 1) cost \(Say.bytes1(rest)) each"
        if rest < first {
            text += ": \(Say.times(first / max(rest, 1))) smaller — the first request entered its fields into HPACK's dynamic table (RFC 7541 §2.3.2), the rest send one-byte indexes and only the changing :path as a literal"
        } else {
            text += ": no smaller — nothing repeated was indexed this time"
        }
        text += ". The answers: \(Say.bytes(Double(p.firstDown))) first, then \(Say.bytes1(p.restDown)); an HTTP/1.1 poll exchange cost \(Say.bytes1(p.http1Up)) up and \(Say.bytes1(p.http1Down)) down, every time."
        return [text]
    }

    /// Short and long polling per event, HTTP/1.1 against HTTP/2.
    static func polling(_ n: HTTP2LessonNumbers) -> [String] {
        n.rows.filter { $0.transport == .poll || $0.transport == .longpoll }.compactMap { r in
            guard let a = r.http1, let b = r.http2, a > 0, b > 0 else { return nil }
            let name = r.transport == .poll ? "Short polling" : "Long polling"
            let verdict = b < a ? "\(Say.times(a / b)) fewer bytes with HTTP/2: HPACK shrinks the repeated request and response heads"
                                : "HTTP/2 was not cheaper here (\(Say.times(b / a)) the bytes): frame headers and the connection's own frames outweighed what HPACK saved"
            return "\(name) at \(Say.count(r.rate)) events/s: \(Say.bytes(a)) per event over HTTP/1.1, \(Say.bytes(b)) over HTTP/2 — \(verdict)."
        }
    }

    /// SSE and WebSocket: the same bytes inside DATA frames. The measured difference per event
    /// mixes the stream's opening (shared by the run's events) with the per-event framing, and
    /// the sentence says so.
    static func framing(_ n: HTTP2LessonNumbers) -> [String] {
        n.rows.filter { $0.transport == .sse || $0.transport == .ws }.compactMap { r in
            guard let a = r.http1, let b = r.http2 else { return nil }
            let d = b - a
            let perEvent = r.transport == .sse
                ? "a 9-byte DATA frame header instead of an HTTP/1.1 chunk's size line and two CRLFs (about 6 B)"
                : "the same WebSocket frame (2-byte header) plus a 9-byte DATA frame header (RFC 8441)"
            let change = abs(d) < 0.5 ? "about the same" : d > 0 ? "\(Say.bytes1(d)) more" : "\(Say.bytes1(-d)) less"
            return "\(r.transport == .sse ? "SSE" : "WebSocket") at \(Say.count(r.rate)) events/s: \(Say.bytes(a)) per event over HTTP/1.1, \(Say.bytes(b)) over HTTP/2, \(change). Two things move it: each event pays \(perEvent), and the stream's opening (HEADERS compressed by HPACK instead of an HTTP/1.1 request and response head) is shared by the run's events\(d < 0 ? " — here the cheaper opening outweighed the per-event framing" : "")."
        }
    }

    /// Connections used.
    static func connections(_ n: HTTP2LessonNumbers) -> [String] {
        guard let rate = n.rows.last?.rate else { return [] }
        let rows = n.rows.filter { $0.rate == rate }
        let c1 = rows.reduce(0) { $0 + $1.connections1 }, c2 = rows.reduce(0) { $0 + $1.connections2 }
        var text = "Connections at \(Say.count(rate)) events/s: \(c1) over HTTP/1.1 and \(c2) over HTTP/2 for the \(rows.count) transports"
        if let s = n.sharedConnections {
            text += s == 1 ? "; with --share one connection carried every transport, as one browser tab would"
                           : "; with --share \(s) connections (expected one: a reconnect or a refused stream)"
        }
        return [text + "."]
    }

    /// The six-per-host limit, live.
    static func streams(_ n: HTTP2LessonNumbers) -> [String] {
        if let e = n.browserError { return ["The browser part did not run: \(e)."] }
        var out: [String] = []
        if let d = n.direct {
            let total = d.counts.count
            if d.flowing < total {
                let idle = d.counts.enumerated().filter { $0.element == 0 }.map { String($0.offset + 1) }.joined(separator: ", ")
                out.append("Directly over \(d.protocolName): \(d.flowing) of \(total) EventSources received events; stream \(idle) got nothing, waiting for one of the six connections Chromium opens per host (each open SSE stream holds one).")
            } else {
                out.append("Directly over \(d.protocolName): all \(total) EventSources received events — this browser did not stop at six connections per host.")
            }
        }
        if let g = n.nginx {
            let total = g.counts.count
            if g.flowing == total {
                out.append("Through nginx over \(g.protocolName): all \(total) received events, as streams of one connection (SETTINGS_MAX_CONCURRENT_STREAMS, not a connection count, is the limit).")
            } else {
                out.append("Through nginx over \(g.protocolName): only \(g.flowing) of \(total) received events.")
            }
        }
        return out
    }
}
