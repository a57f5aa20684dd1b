// Calibrating the model (TransportModel.swift) on this machine, at the start of each lesson, from
// real exchanges: three short races against a server configured like the lesson's, read through
// the byte ledger (WireMeasure/ByteLedger.swift), which sorts every byte the clients counted.
//
//   A: all four transports, 1 client each, 25 events/s, polls every 0.25 s, 1 s
//   B: the same at 5 events/s (with A: segments per pushed event, as a slope)
//   C: only for lessons with crowds: 150 SSE + 150 WebSocket clients at 10 events/s, 1 s
//      (with A: the cost of one more subscriber in a broadcast)
//
// What is *not* measured is said where it is used: a TCP connection opens with three segments
// and closes with three (RFC 9293 §3.5, §3.6), and our server writes a heartbeat as `: hb` in a
// chunk of its own (11 bytes).
import WireCodec
import WireMeasure
import WireServer

public struct ModelCalibration {
    // Sizes, bytes. The defaults are what `wirelab race --headers minimal` measured against
    // `wirelab serve` on loopback; a lesson replaces them with its own calibration.
    public var pollRequest = 99.0          // GET /poll?since=N&client=race-poll-1 + Host + Accept
    public var pollResponseHead = 136.0    // status line, Date, Content-Type, Content-Length, Cache-Control
    public var pollWrapper = 32.0          // {"events":[...],"next":N,"missed":0} around the events
    public var sseHandshake = 279.0        // request + response head, once per stream
    public var sseFields = 25.0            // "id: N\nevent: tick\ndata: " + "\n\n" (chunk line apart)
    public var sseHeartbeatBytes = 11.0    // "6\r\n: hb\n\n\r\n"
    public var wsHandshake = 302.0         // upgrade request + 101 response
    public var wsClosing = 12.0            // our Close (2 + 4 mask + 2 code) and the server's (2 + 2)
    // Segments. 52 bytes of IPv4 + TCP headers each, timestamps on (ByteLedger.swift).
    public var ipHeaderBytes = 52.0
    public var segmentsPerConnection = 6.0 // SYN, SYN-ACK, ACK; FIN, FIN-ACK, ACK (RFC 9293)
    public var segmentsPerPollExchange = 3.0
    public var segmentsPerPushedEvent = 2.0
    public var pushOpeningSegments = 3.0   // the stream's request and head, and their ACKs
    // Time, ms.
    public var sseLatencyMs = 0.25
    public var wsLatencyMs = 0.25
    public var longPollLatencyMs = 0.3
    public var latencySpreadMs = 0.2       // p95 − p50 of the calibration's pushes
    public var latencyStallMs = 0.5        // max − p50: the longest stall the calibration saw
    public var fanOutMicrosPerSubscriber = 3.0
    /// true once `measure` replaced the defaults; the fan-out cost only with race C.
    public var calibrated = false
    public var fanOutMeasured = false

    public init() {}

    /// Runs the calibration races against servers from `startServer(rate)`; `crowd` adds race C.
    static func measure(size: Int, headers: RequestHeaderSet, crowd: Bool,
                        startServer: (Double) throws -> Server) throws -> ModelCalibration {
        func race(_ rate: Double, _ transports: [RaceTransport], clients: Int) throws -> RaceResult {
            let server = try startServer(rate)
            defer { server.shutdown(grace: 0.2) }
            var s = RaceSettings()
            s.url = "http://127.0.0.1:\(server.port)"
            s.transports = transports
            s.rate = rate
            s.size = size
            s.clients = clients
            s.duration = 1
            s.pollInterval = 0.25
            s.headers = headers
            s.pauseGeneratorAtEnd = true
            s.quietWhileConnecting = true
            return try Race(settings: s).run()
        }
        let a = try race(25, RaceTransport.allCases, clients: 1)
        let b = try race(5, RaceTransport.allCases, clients: 1)
        var c = ModelCalibration()
        c.calibrated = true
        if let p = a.result(.poll), p.requests > 0 {
            let l = p.ledger, n = Double(p.requests)
            c.pollRequest = Double(p.totals.headersUp) / n
            c.pollResponseHead = Double(p.totals.headersDown) / n
            c.pollWrapper = max(0, (l.framing - Double(p.totals.eventMessages)) / n)
            c.segmentsPerPollExchange = max(0, (segments(p) - c.segmentsPerConnection * Double(p.connections)) / n)
        }
        if let s = a.result(.sse), s.connections > 0, s.totals.eventMessages > 0 {
            let l = s.ledger, msgs = Double(s.totals.eventMessages)
            c.sseHandshake = l.handshake / Double(s.connections)
            let json = l.payload / msgs
            let perEvent = l.framing / msgs
            // perEvent = fields + hex digits of (json + fields) + 4 (two CRLFs of the chunk)
            var fields = perEvent - 6
            for _ in 0..<3 { fields = perEvent - 4 - Double(String(Int(json + fields), radix: 16).count) }
            c.sseFields = fields
        }
        if let w = a.result(.ws), w.connections > 0, w.totals.eventMessages > 0 {
            let l = w.ledger, msgs = Double(w.totals.eventMessages)
            let json = l.payload / msgs
            let header: Double = json <= 125 ? 2 : (json <= 65_535 ? 4 : 10)
            c.wsHandshake = l.handshake / Double(w.connections)
            c.wsClosing = max(0, (l.framing - header * msgs) / Double(w.connections))
        }
        // Segments per pushed event: the slope between the two rates, SSE and WebSocket together.
        let pushA = [a.result(.sse), a.result(.ws)].compactMap { $0 }, pushB = [b.result(.sse), b.result(.ws)].compactMap { $0 }
        let segA = pushA.map(segments).reduce(0, +), segB = pushB.map(segments).reduce(0, +)
        let msgA = Double(pushA.map { $0.totals.eventMessages }.reduce(0, +)), msgB = Double(pushB.map { $0.totals.eventMessages }.reduce(0, +))
        if msgA > msgB + 5 {
            c.segmentsPerPushedEvent = min(3, max(0.5, (segA - segB) / (msgA - msgB)))
            let conns = Double(pushA.map { $0.connections }.reduce(0, +))
            c.pushOpeningSegments = max(0, (segA - c.segmentsPerPushedEvent * msgA) / max(1, conns) - c.segmentsPerConnection)
        }
        // Latency: the mean of both runs, per transport.
        func mean(_ t: RaceTransport) -> Double? {
            let v = [a, b].compactMap { $0.result(t)?.latency?.mean }
            return v.isEmpty ? nil : v.reduce(0, +) / Double(v.count)
        }
        c.sseLatencyMs = mean(.sse) ?? c.sseLatencyMs
        c.wsLatencyMs = mean(.ws) ?? c.wsLatencyMs
        c.longPollLatencyMs = mean(.longpoll) ?? c.longPollLatencyMs
        c.latencySpreadMs = [a.result(.sse), a.result(.ws), a.result(.longpoll)]
            .compactMap { $0?.latency.map { $0.p95 - $0.p50 } }.max() ?? c.latencySpreadMs
        c.latencyStallMs = [a, b].flatMap { r in [r.result(.sse), r.result(.ws), r.result(.longpoll)] }
            .compactMap { $0?.latency.map { $0.max - $0.p50 } }.max() ?? c.latencyStallMs
        if crowd {
            let k = 150
            let big = try race(10, [.sse, .ws], clients: k)
            let crowdMean = [big.result(.sse), big.result(.ws)].compactMap { $0?.latency?.mean }
            if crowdMean.count == 2 {
                let single = (c.sseLatencyMs + c.wsLatencyMs) / 2
                let extra = crowdMean.reduce(0, +) / 2 - single
                c.fanOutMicrosPerSubscriber = max(0, extra * 1000 / (Double(2 * k - 1) / 2))
                c.fanOutMeasured = true
            }
        }
        return c
    }

    /// The same machine with a browser's request headers (BrowserHeaders.swift): each request
    /// grows by the difference between Chromium's head and the minimal one, built here byte for
    /// byte; responses are the server's and stay as measured.
    func withBrowserHeaders() -> ModelCalibration {
        func head(_ target: String, _ t: RaceTransport, _ set: RequestHeaderSet) -> Double {
            var h = HTTPHeaders()
            h.add(name: "Host", value: "127.0.0.1:8080")
            for (n, v) in set.fields(for: t, hostHeader: "127.0.0.1:8080") { h.add(name: n, value: v) }
            return Double(HTTPSerializer.request(method: "GET", target: target, headers: h).count)
        }
        var c = self
        c.pollRequest += head("/poll?since=1", .poll, .browser) - head("/poll?since=1", .poll, .minimal)
        c.sseHandshake += head("/sse", .sse, .browser) - head("/sse", .sse, .minimal)
        c.wsHandshake += head("/ws", .ws, .browser) - head("/ws", .ws, .minimal)
        return c
    }

    /// Segments of a transport's connections, from the ledger's tcpip bytes (8 more per SYN).
    static func segments(_ r: TransportResult) -> Double {
        (r.ledger.tcpip - 16 * Double(r.connections)) / 52
    }

    /// One line for the lesson: what was measured.
    var summary: String {
        "poll request \(Say.bytes(pollRequest)) + head \(Say.bytes(pollResponseHead)) + wrapper \(Say.bytes(pollWrapper)); "
            + "SSE handshake \(Say.bytes(sseHandshake)), fields \(Say.bytes(sseFields))/event; WebSocket handshake \(Say.bytes(wsHandshake)); "
            + "\(Say.round1(segmentsPerPushedEvent)) segments per pushed event, \(Say.round1(segmentsPerPollExchange)) per poll; "
            + "publish→receive SSE \(Say.ms(sseLatencyMs)), WebSocket \(Say.ms(wsLatencyMs)), long poll \(Say.ms(longPollLatencyMs)), longest stall \(Say.ms(latencyStallMs))"
            + (fanOutMeasured ? "; \(Say.round1(fanOutMicrosPerSubscriber)) µs per extra subscriber (300 of them)" : "")
    }
}
