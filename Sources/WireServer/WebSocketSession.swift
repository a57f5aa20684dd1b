// WebSocket (RFC 6455) on a connection: the opening handshake (§4.2), then frames both ways.
//  - /ws: every event is one text message holding the event JSON; the client may send
//    commands (PROTOCOL.md §2);
//  - /echo: every message comes back unchanged (same opcode).
// The codecs (WireCodec) say what the bytes mean; this file decides what to do about it.
import WireLoop
import WireCodec

/// A class, not a struct: the broadcast path reads `lastSentID` for every subscriber, and a
/// struct behind an optional would be copied (codec buffers and all) on each read.
final class WebSocketSession {
    let echo: Bool
    var decoder: WebSocketFrameDecoder
    var assembler: WebSocketMessageAssembler
    var lastSentID = 0
    /// Pings sent since the last pong (PROTOCOL.md §2: two unanswered pings close with 1001).
    var unansweredPings = 0
    var lastPing: Int64
    var closeSent = false

    init(echo: Bool, decoder: WebSocketFrameDecoder, assembler: WebSocketMessageAssembler, lastPing: Int64) {
        self.echo = echo; self.decoder = decoder; self.assembler = assembler; self.lastPing = lastPing
    }
}

extension Connection {
    // MARK: §4.2 the opening handshake

    func upgradeToWebSocket(_ request: HTTPRequest, echo: Bool, since: Int?, tag: CounterTag) {
        countRequest(tag)
        let h = request.headers
        // §4.2.1: a GET with "Upgrade: websocket" ...
        guard let upgrade = h["Upgrade"], Router.headerHasToken(upgrade, "websocket") else {
            // PROTOCOL.md §2: a plain GET to /ws or /echo is 426 with Upgrade: websocket.
            return respondError(to: request, status: 426, "this endpoint speaks WebSocket: send an Upgrade request",
                                tag: tag, extraHeaders: "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n")
        }
        // ... "Connection: Upgrade" and HTTP/1.1 or higher ...
        guard let connection = h["Connection"], Router.headerHasToken(connection, "upgrade"),
              request.version != .http1_0 else {
            return respondError(to: request, status: 400, "a WebSocket upgrade needs HTTP/1.1 and Connection: Upgrade", tag: tag, close: true)
        }
        // ... "Sec-WebSocket-Version: 13" (§4.4: else answer with the versions we speak) ...
        guard h["Sec-WebSocket-Version"]?.trimmingSpacesString() == "13" else {
            return respondError(to: request, status: 426, "Sec-WebSocket-Version must be 13", tag: tag,
                                extraHeaders: "Sec-WebSocket-Version: 13\r\n", close: true)
        }
        // ... and a Sec-WebSocket-Key that is Base64 of 16 bytes.
        guard let key = h["Sec-WebSocket-Key"], WebSocketHandshake.isValidKey(key) else {
            return respondError(to: request, status: 400, "Sec-WebSocket-Key must be Base64 of 16 bytes", tag: tag, close: true)
        }
        // §4.2.2 step 5: 101 with Sec-WebSocket-Accept = Base64(SHA-1(key + GUID)).
        // LESSON: ws-handshake-response
        var head = Array("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n".utf8)
        head += Array("Sec-WebSocket-Accept: \(WebSocketHandshake.acceptValue(forKey: key.trimmingSpacesString()))\r\n\r\n".utf8)

        let config = worker.config
        let session = WebSocketSession(echo: echo,
                                       decoder: WebSocketFrameDecoder(requireMasked: true, maxPayload: config.maxMessage),
                                       assembler: WebSocketMessageAssembler(maxMessage: config.maxMessage),
                                       lastPing: LoopClock.monotonicNanos())
        phase = .webSocket
        self.tag = tag
        headDeadline = 0
        idleDeadline = 0
        // Bytes the client sent after its request are already frames.
        let early = parser.takeBufferedBytes()
        if unattributedIn > 0 { stats.addBytesIn(unattributedIn, tag); unattributedIn = 0 }

        var first = head
        var replayed = 0
        if !echo {
            session.lastSentID = worker.feed.latestID
            if let since = since {
                let slice = worker.feed.events(after: since, limit: Int.max)
                for e in slice.events { first += e.webSocketFrame }
                replayed = slice.events.count
                session.lastSentID = slice.latest
            }
            worker.webSocketSubscribers.add(self)
        }
        webSocket = session
        stats.addEvents(replayed, tag)
        send(first, tag: tag)
        if !early.isEmpty {
            early.withUnsafeBytes { receivedWebSocketBytes($0) }
        }
    }

    // MARK: frames in

    func receivedWebSocketBytes(_ bytes: UnsafeRawBufferPointer) {
        guard let session = webSocket else { return }
        session.decoder.feed(bytes)
        while phase == .webSocket {
            do {
                guard let frame = try session.decoder.nextFrame() else { return }
                guard let message = try session.assembler.receive(frame) else { continue }
                handle(message)
            } catch let error as WebSocketError {
                failWebSocket(error.closeCode, error.reason)
                return
            } catch {
                failWebSocket(.internalError, "unexpected error")
                return
            }
        }
    }

    private func handle(_ message: WebSocketMessage) {
        guard let session = webSocket else { return }
        switch message {
        case .ping(let payload):
            // §5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in response".
            sendFrame(.pong, payload)
        case .pong:
            session.unansweredPings = 0
        case .close(let code, _):
            // §5.5.1: answer a close with a close; PROTOCOL.md §2: the same code, 1000 if it had none.
            if !session.closeSent {
                session.closeSent = true
                sendFrame(.close, WebSocketFrameEncoder.closePayload(code: code ?? 1000))
            }
            // §7.1.1: the server closes the TCP connection first.
            closeAfterFlush()
        case .text(let payload):
            if session.echo { sendFrame(.text, payload) } else { WebSocketCommand.handle(payload, on: self) }
        case .binary(let payload):
            if session.echo {
                sendFrame(.binary, payload)
            } else {
                sendCommandError("binary messages are not commands; send JSON text")
            }
        }
    }

    // MARK: frames out

    func sendFrame(_ opcode: WebSocketOpcode, _ payload: [UInt8]) {
        send(WebSocketFrameEncoder.encode(opcode: opcode, payload: payload), tag: tag)
    }

    func sendCommandError(_ message: String) {
        var out = Array("{\"type\":\"error\",\"error\":".utf8)
        JSON.appendString(message, to: &out)
        out.append(UInt8(ascii: "}"))
        sendFrame(.text, out)
    }

    func deliverToWebSocket(_ event: PublishedEvent) {
        guard phase == .webSocket, let session = webSocket, !session.closeSent,
              event.id > session.lastSentID else { return }
        session.lastSentID = event.id
        stats.addEvents(1, tag)
        send(event.webSocketFrame, tag: tag)
    }

    /// Replay for the `{"type":"since"}` command: retained events after `since`, then live.
    func replayWebSocket(since: Int) {
        let slice = worker.feed.events(after: since, limit: Int.max)
        var bytes: [UInt8] = []
        for e in slice.events { bytes += e.webSocketFrame }
        if let session = webSocket { session.lastSentID = max(session.lastSentID, slice.latest) }
        stats.addEvents(slice.events.count, tag)
        send(bytes, tag: tag)
    }

    /// A protocol error: send the close code it carries, then close (§7.1.7 "Fail the WebSocket
    /// Connection").
    func failWebSocket(_ code: WebSocketCloseCode, _ reason: String) {
        guard let session = webSocket else { return close() }
        if !session.closeSent {
            session.closeSent = true
            // A close reason is at most 123 bytes (§5.5: control payload <= 125, 2 for the code).
            var r = Array(reason.utf8.prefix(123))
            while !r.isEmpty && !UTF8Validator.isValid(r) { r.removeLast() }
            sendFrame(.close, WebSocketFrameEncoder.closePayload(code: code.rawValue, reason: String(decoding: r, as: UTF8.self)))
        }
        closeAfterFlush()
    }

    /// PROTOCOL.md §2: ping every `heartbeat` s; two unanswered pings close with 1001.
    // LESSON: ws-ping
    func webSocketHeartbeat(now: Int64, heartbeat: Int64) {
        guard let session = webSocket, !session.closeSent, now - session.lastPing >= heartbeat else { return }
        if session.unansweredPings >= 2 {
            return failWebSocket(.goingAway, "no pong to two pings")
        }
        session.unansweredPings += 1
        session.lastPing = now
        sendFrame(.ping, [])
    }

    func webSocketShutdown() {
        failWebSocket(.goingAway, "server shutting down")
    }
}
