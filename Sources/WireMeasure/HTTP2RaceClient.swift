// A race client over HTTP/2 (`race --http 2`): the same four transports of PROTOCOL.md §2, each
// request a stream of an HTTP2Carrier (one h2c connection):
//   poll      a stream per question, every --poll-interval (the same grid as ShortPollClient);
//   longpoll  a stream per question, the next at once;
//   sse       one stream whose DATA never ends, read with the same SSEDecoder;
//   ws        RFC 8441 extended CONNECT (`:method CONNECT`, `:protocol websocket`, answered
//             `:status 200`), then the very same WebSocket frames inside DATA (masked, §5.3 of
//             RFC 6455: the masking rule does not change under HTTP/2).
// The bytes a client pays are the frames of its streams (HTTP2Carrier splits the socket's bytes
// by stream). The byte ledger (ByteLedger.swift) gets the request HEADERS frames (headers for
// polls, handshake for SSE and WebSocket), the event JSON (payload) and WebSocket pings and pongs
// with their DATA frame headers (heartbeats); the response HEADERS frames stay in framing, since
// the codec hands us their fields, not their bytes. Resuming after a drop (PROTOCOL.md §8) is the HTTP/1.1 clients' way: since=,
// Last-Event-ID, the reconnect policy's delay before the connection is opened again.
import WireLoop
import WireCodec

final class HTTP2RaceClient: RaceClient {
    let carrier: HTTP2Carrier
    private let interval: Int64
    private let runLength: Int64
    /// The stream in progress (a question, the SSE stream, the WebSocket), if any.
    private var stream: UInt32?
    private var status = 0
    private var body: [UInt8] = []
    private var since = 0
    private var generation = 0
    private(set) var wantsConnection = false
    private var askWhenConnected = false
    // short polling's grid (ShortPollClient.swift)
    private var tick = 0
    private var runStart: Int64 = 0
    private var timer: LoopTimer?
    private var finalPollPending = false
    private var finalPollSent = false
    // SSE and WebSocket
    private var sse = SSEDecoder()
    private var lastEventID = ""
    private var frames = WebSocketFrameDecoder(requireMasked: false, maxPayload: 16 << 20)
    private var assembler = WebSocketMessageAssembler(maxMessage: 16 << 20)
    private var closing = WebSocketCloseState.open
    private var closeTimer: LoopTimer?

    init(name: String, transport: RaceTransport, carrier: HTTP2Carrier, interval: Double, runDuration: Double) {
        self.carrier = carrier
        self.interval = LoopClock.nanos(seconds: interval)
        self.runLength = LoopClock.nanos(seconds: runDuration)
        super.init(name: name, transport: transport, context: carrier.context)
        carrier.add(self)
    }

    // MARK: the connection is the carrier's

    override var isOpen: Bool { carrier.isOpen && generation == carrier.generation }
    override func connect() {
        guard !isDone else { return }
        if ledger.connectStarted == 0 { ledger.connectStarted = LoopClock.monotonicNanos() }
        wantsConnection = true
        carrier.attach(self)
    }

    func carrierOpened(generation: Int) {
        guard wantsConnection, !isDone else { return }
        wantsConnection = false
        self.generation = generation
        counts.connections += 1            // the server counts a connection once per client on it
        switch transport {
        case .sse, .ws: openStream()        // ready once the answer's HEADERS say it is subscribed
        default:
            becameReady()                   // a poller asks with since=: ready with the connection
            if askWhenConnected { askWhenConnected = false; ask() }
        }
    }

    /// The connection dropped (or could not be opened again): like the HTTP/1.1 clients, resume
    /// after the reconnect policy's delay (PROTOCOL.md §8). A poller asks again at once only if
    /// a question was out; an idle one waits for its next tick, as PollingClient does.
    func carrierLost() {
        let questionOut = stream != nil
        stream = nil
        generation = 0
        wantsConnection = false
        closeTimer?.cancel()
        if context.runOver && (hasAllEvents || closing != .open) { return finishedForGood() }
        if transport == .poll || transport == .longpoll {
            if questionOut { askWhenConnected = true }
            if !askWhenConnected && (context.firstID == Int.max || context.runOver) { return }
        }
        reconnectAfterDrop()
    }

    override func finishedForGood() {
        timer?.cancel()
        closeTimer?.cancel()
        super.finishedForGood()
    }

    /// The connection is the carrier's: it closes once its last client is done, and says so.
    override func closeForGood(then: @escaping () -> Void) {
        carrier.userFinished(then: then)
    }

    // MARK: the run

    override func runStarted(runStart: Int64) {
        since = resumeID ?? context.firstID - 1
        self.runStart = runStart
        switch transport {
        case .poll: scheduleNext()
        case .longpoll: ask()
        default: break
        }
    }

    private func scheduleNext() {
        tick += 1
        let at = runStart + Int64(tick) * interval
        guard at < runStart + runLength else { return }
        timer = context.loop.schedule(atNanos: at) { [weak self] in
            guard let self, !self.context.runOver, !self.isDone else { return }
            if self.stream == nil { self.ask() }
            self.scheduleNext()
        }
    }

    override func runEnded() {
        timer?.cancel()
        switch transport {
        case .poll:
            finalPollPending = true
            if stream == nil { finalPoll() }
        case .ws: if hasAllEvents { startClosing() }
        default: if hasAllEvents { finishedForGood() }
        }
    }

    private func finalPoll() { finalPollPending = false; finalPollSent = true; ask() }

    // MARK: requests as streams

    private func fields(_ target: String, method: String = "GET") -> [HPACKHeaderField] {
        [HPACKHeaderField(":method", method), HPACKHeaderField(":scheme", "http"),
         HPACKHeaderField(":authority", context.endpoint.hostHeader), HPACKHeaderField(":path", target)]
    }

    /// A poll question: GET path?since=N&client=NAME on a new stream.
    private func ask() {
        guard !isDone else { return }
        guard isOpen else {
            askWhenConnected = true
            if !wantsConnection && !reconnectPending { connect() }
            return
        }
        body = []; status = 0
        let opened = carrier.openStream(for: self, fields("\(transport.path)?since=\(since)&client=\(name)")
                                        + [HPACKHeaderField("accept", "application/json")], endStream: true)
        stream = opened?.id
        if let opened { counts.requests += 1; counts.headersUp += opened.headerBytes }
    }

    /// The SSE stream or the WebSocket (extended CONNECT, RFC 8441 §4).
    private func openStream() {
        status = 0
        let opened: (id: UInt32, headerBytes: Int)?
        if transport == .sse {
            sse = SSEDecoder()
            var target = "/sse?client=\(name)"
            var extra = [HPACKHeaderField("accept", "text/event-stream")]
            if !lastEventID.isEmpty { extra.append(HPACKHeaderField("last-event-id", lastEventID)) }
            else if let since = resumeID { target = "/sse?since=\(since)&client=\(name)" }
            // A GET has no body: END_STREAM with the headers (half-closed, the answer keeps coming).
            opened = carrier.openStream(for: self, fields(target) + extra, endStream: true)
        } else {
            frames = WebSocketFrameDecoder(requireMasked: false, maxPayload: 16 << 20)
            assembler = WebSocketMessageAssembler(maxMessage: 16 << 20)
            closing = .open
            var target = "/ws?client=\(name)"
            if let since = resumeID { target = "/ws?since=\(since)&client=\(name)" }
            // LESSON: h2-extended-connect
            // RFC 8441 §4: ":protocol" names the protocol; no Upgrade, no Sec-WebSocket-Key.
            opened = carrier.openStream(for: self, fields(target, method: "CONNECT")
                                        + [HPACKHeaderField(":protocol", "websocket"), HPACKHeaderField("sec-websocket-version", "13")],
                                        endStream: false)
        }
        stream = opened?.id
        if let opened { counts.requests += 1; counts.handshakeUp += opened.headerBytes } else { fail("the server refused a new stream") }
    }

    // MARK: from the carrier

    func h2Headers(_ id: UInt32, _ fields: [HPACKHeaderField], endStream: Bool) {
        guard id == stream else { return }
        if let s = fields.first(where: { $0.name == ":status" }), let code = Int(s.value) { status = code }
        if status != 200 { return httpFailed("\(transport.path) over HTTP/2 answered \(status)") }
        // An SSE stream or a WebSocket is live from the moment the server answered it: only
        // now may the run start, or the events published while the request was on its way
        // (a --via delay) would be counted as missed (HTTP/1.1 waits for its 200 or 101 too).
        if transport == .sse || transport == .ws { becameReady() }
        if endStream { h2Data(id, [], endStream: true) }
    }

    func h2Data(_ id: UInt32, _ bytes: [UInt8], endStream: Bool) {
        guard id == stream else { return }
        switch transport {
        case .poll, .longpoll:
            body += bytes
            if endStream { answered() }
        case .sse:
            sse.feed(bytes)
            while let event = sse.nextEvent() {
                counts.payloadDown += event.data.utf8.count
                if let stamp = EventScanner.event(Array(event.data.utf8)) { received(stamp) }
            }
            lastEventID = sse.lastEventID
            if context.runOver && hasAllEvents { return finishedForGood() }
            if endStream { stream = nil; reconnectAfterStreamEnd() }
        default:
            webSocketData(bytes)
            if endStream, !isDone { stream = nil; reconnectAfterStreamEnd() }
        }
    }

    func h2StreamLost(_ id: UInt32) {
        guard id == stream else { return }
        stream = nil
        if context.runOver && hasAllEvents { return finishedForGood() }
        if transport == .poll || transport == .longpoll { askWhenConnected = true }
        reconnectAfterStreamEnd()
    }

    /// A stream ended while the connection lives: open it again after the policy's delay.
    private func reconnectAfterStreamEnd() {
        wantsConnection = false
        generation = 0          // `isOpen` false: the next connect() asks the carrier again
        reconnectAfterDrop()
    }

    private func answered() {
        stream = nil
        guard status == 200 else { return httpFailed("GET \(transport.path) answered \(status)") }
        let answer = EventScanner.pollBody(body)
        if answer.events.isEmpty { counts.emptyResponses += 1 }
        for e in answer.events { received(e) }
        counts.payloadDown += EventScanner.eventBytes(body, events: answer.events.count)
        if let next = answer.next { since = next }
        if transport == .poll {
            if finalPollPending { finalPoll() } else if finalPollSent { finishedForGood() }
        } else {
            if context.runOver && hasAllEvents { return finishedForGood() }
            ask()
        }
    }

    // MARK: WebSocket frames inside DATA

    private func webSocketData(_ bytes: [UInt8]) {
        frames.feed(bytes)
        do {
            while stream != nil, let frame = try frames.nextFrame() {
                guard let message = try assembler.receive(frame) else { continue }
                switch message {
                case .text(let payload):
                    counts.payloadDown += payload.count
                    if let stamp = EventScanner.event(payload) { received(stamp) }
                    if closing.canSendData && context.runOver && hasAllEvents { startClosing() }
                case .binary, .pong:
                    break
                case .ping(let payload):
                    // Ledger: the ping down and our pong up, each in its own DATA frame (9 B).
                    counts.heartbeatDown += 9 + 2 + payload.count
                    if closing.canSendData { counts.heartbeatUp += 9 + 6 + payload.count; sendFrame(.pong, payload) }    // RFC 6455 §5.5.2
                case .close(let code, _):
                    if case .sendClose(let answer) = closing.receivedClose(code: code) {
                        sendFrame(.close, WebSocketFrameEncoder.closePayload(code: answer))
                        closing.answeredClose()
                    }
                    // Over HTTP/2 the TCP close of RFC 6455 §7.1.1 is the stream's END_STREAM
                    // (RFC 8441 §5): end our side; the stream is then closed.
                    if let id = stream { carrier.sendData(id, [], endStream: true) }
                    stream = nil
                    if context.runOver || hasAllEvents { return finishedForGood() }
                    return reconnectAfterStreamEnd()
                }
            }
        } catch let error as WebSocketError {
            fail("WebSocket protocol error \(error.closeCode.rawValue): \(error.reason)")
        } catch {
            fail("WebSocket error over HTTP/2: \(error)")
        }
    }

    private func sendFrame(_ opcode: WebSocketOpcode, _ payload: [UInt8]) {
        guard let id = stream else { return }
        carrier.sendData(id, WebSocketFrameEncoder.encode(opcode: opcode, payload: payload,
                                                          maskingKey: WebSocketFrameEncoder.makeMaskingKey()))
    }

    private func startClosing() {
        guard stream != nil, case .sendClose(let code) = closing.sendClose(code: WebSocketCloseCode.normalClosure.rawValue) else {
            return finishedForGood()
        }
        sendFrame(.close, WebSocketFrameEncoder.closePayload(code: code))
        closeTimer = context.loop.schedule(afterNanos: 2_000_000_000) { [weak self] in self?.finishedForGood() }
    }
}
