// WebSocket (RFC 6455) in the conversation: the opening handshake (§4.2), then frames both ways.
//  - /ws: every event is one text message holding the event JSON; the client may send
//    commands (PROTOCOL.md §2);
//  - /echo: every message comes back unchanged (same opcode).
// The codecs (WireCodec) say what the bytes mean, `WebSocketCloseState` (WireCodec) keeps the
// closing handshake; this file decides what to do about it.
// Bounds (PROTOCOL.md §9): a subscriber whose queue passes `--max-queue` gets close 1013; after
// our Close the peer has `closeWait` (5 s) to answer; a fragmented message must complete within
// `--max-message` bytes and 1,000 frames (1009) and 30 s (1008).
import WireLoop
import WireCodec

/// A class, not a struct: the broadcast path reads `lastSentID` for every subscriber, and a
/// struct inside the state enum would be copied (codec buffers and all) on each change.
final class WebSocketSession {
    let echo: Bool
    /// PROTOCOL.md §9: the handshake's Origin may use `publish`.
    let mayPublish: Bool
    let tag: CounterTag
    var decoder: WebSocketFrameDecoder
    var assembler: WebSocketMessageAssembler
    var closing = WebSocketCloseState.open
    /// After our Close: when we stop waiting for the peer's and close TCP.
    var closeDeadline: Int64 = 0
    /// When the first fragment of the message in progress arrived (0: none in progress).
    var messageStarted: Int64 = 0
    var lastSentID = 0
    var catchingUp = false
    /// Pings sent since the last pong (PROTOCOL.md §2: two unanswered pings close with 1001).
    var unansweredPings = 0
    var lastPing: Int64
    /// Set when the WebSocket rides an HTTP/2 stream (RFC 8441): its frames go out as DATA on
    /// that stream, and closing it ends the stream, not the connection (HTTP2Session).
    var http2Stream: UInt32?
    /// Its HTTP/2 stream has ended: nothing more is read or written.
    var ended = false

    init(echo: Bool, mayPublish: Bool, tag: CounterTag, config: ServerConfig, now: Int64) {
        self.echo = echo; self.mayPublish = mayPublish; self.tag = tag
        decoder = WebSocketFrameDecoder(requireMasked: true, maxPayload: config.maxMessage)
        assembler = WebSocketMessageAssembler(maxMessage: config.maxMessage, maxFragments: config.maxFragments)
        lastPing = now
    }
}

extension Conversation {
    // MARK: §4.2 the opening handshake

    func upgradeToWebSocket(_ request: HTTPRequest, echo: Bool, since: Int?, mayPublish: Bool, tag: CounterTag) {
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

        let session = WebSocketSession(echo: echo, mayPublish: mayPublish, tag: tag, config: config,
                                       now: context.now())
        state = .webSocket(session)
        // Bytes the client sent after its request are already frames.
        let early = parser.takeBufferedBytes()
        parser = HTTPRequestParser(maxHeadBytes: 0, maxBodyBytes: 0)   // not read again: free its buffer
        attributeRemainingInput(to: tag)
        write(head, tag)
        if !echo {
            emit(.subscribe(.webSocket))
            startWebSocketFeed(session, since: since)
        }
        if !early.isEmpty {
            early.withUnsafeBytes { receivedWebSocketBytes($0, session) }
        }
    }

    /// Events from `since` (replayed first), or from now on.
    func startWebSocketFeed(_ session: WebSocketSession, since: Int?) {
        let latest = feed.latestID
        let from = since.map { $0 > latest ? 0 : $0 }   // ahead of us: the server restarted
        session.lastSentID = from ?? latest
        session.catchingUp = from != nil
        if session.catchingUp { pumpWebSocket(session) }
    }

    // MARK: frames in

    func receivedWebSocketBytes(_ bytes: UnsafeRawBufferPointer, _ session: WebSocketSession) {
        session.decoder.feed(bytes)
        while isLive(session) {
            do {
                guard let frame = try session.decoder.nextFrame() else { return }
                let message = try session.assembler.receive(frame)
                // PROTOCOL.md §9: remember when a fragmented message began (30 s to complete it).
                if session.assembler.isAssembling {
                    if session.messageStarted == 0 { session.messageStarted = context.now() }
                } else {
                    session.messageStarted = 0
                }
                if let message = message { handle(message, session) }
            } catch let error as WebSocketError {
                return failWebSocket(session, error.closeCode, error.reason)
            } catch {
                return failWebSocket(session, .internalError, "unexpected error")
            }
        }
    }

    private func handle(_ message: WebSocketMessage, _ session: WebSocketSession) {
        if case .close(let code, _) = message {
            switch session.closing.receivedClose(code: code) {
            case .sendClose(let answer):
                // §5.5.1: answer a close with a close; PROTOCOL.md §2: the same code, 1000 if none.
                sendFrame(.close, WebSocketFrameEncoder.closePayload(code: answer), session)
                session.closing.answeredClose()
                finishWebSocket(session)        // §7.1.1: the server closes the TCP connection first.
            case .closeConnection:
                finishWebSocket(session)
            case .none:
                break
            }
            return
        }
        // §5.5.1: after a Close (ours or theirs) no more data is sent: nothing is echoed,
        // no command answered, no pong.
        guard session.closing.canSendData else { return }
        switch message {
        case .ping(let payload):
            // §5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in response".
            sendFrame(.pong, payload, session)
        case .pong:
            session.unansweredPings = 0
        case .text(let payload):
            if session.echo { sendFrame(.text, payload, session) } else { WebSocketCommand.handle(payload, session, on: self) }
        case .binary(let payload):
            if session.echo {
                sendFrame(.binary, payload, session)
            } else {
                sendCommandError("binary messages are not commands; send JSON text", session)
            }
        case .close:
            break
        }
    }

    // MARK: frames out

    func sendFrame(_ opcode: WebSocketOpcode, _ payload: [UInt8], _ session: WebSocketSession) {
        writeWebSocket(WebSocketFrameEncoder.encode(opcode: opcode, payload: payload), session)
    }

    /// A WebSocket's bytes: on its socket, or as DATA on its HTTP/2 stream (RFC 8441 §5).
    func writeWebSocket(_ bytes: [UInt8], _ session: WebSocketSession) {
        if let id = session.http2Stream {
            if !bytes.isEmpty && !session.ended { http2Session?.sendData(id, bytes, endStream: false) }
        } else {
            write(bytes, session.tag)
        }
    }

    /// Frames are still read: the connection is a WebSocket, or its HTTP/2 stream is open.
    func isLive(_ session: WebSocketSession) -> Bool {
        if session.http2Stream != nil { return !session.ended && !isClosed }
        if case .webSocket = state { return true }
        return false
    }

    /// After the closing handshake: close the connection, or end the HTTP/2 stream
    /// (RFC 8441 §5: END_STREAM plays the part of TCP FIN).
    func finishWebSocket(_ session: WebSocketSession) {
        guard let id = session.http2Stream else { return finish(within: config.closeWait) }   // PROTOCOL.md §9: 5 s at most after our Close
        guard !session.ended else { return }
        session.ended = true
        http2Session?.endStream(id)
    }

    func sendCommandError(_ message: String, _ session: WebSocketSession) {
        var out = Array("{\"type\":\"error\",\"error\":".utf8)
        JSON.appendString(message, to: &out)
        out.append(UInt8(ascii: "}"))
        sendFrame(.text, out, session)
    }

    func deliverToWebSocket(_ event: PublishedEvent) {
        guard case .webSocket(let session) = state else { return }
        deliver(event, toWebSocket: session)
    }

    func deliver(_ event: PublishedEvent, toWebSocket session: WebSocketSession) {
        guard session.closing.canSendData, !session.catchingUp, event.id > session.lastSentID else { return }
        let queued = session.http2Stream.flatMap { http2Session?.queued(on: $0) } ?? outputQueued
        if queued + event.webSocketFrame.count > config.maxQueue {
            // PROTOCOL.md §9: too slow. Its backlog is dropped so the Close comes next; it
            // resumes with since= and loses nothing retained. (On HTTP/2 the connection's queue
            // holds other streams' frames too: the Close waits, and the stream is reset if no
            // answer comes within the close wait.)
            if session.http2Stream == nil { emit(.dropQueuedOutput) }
            return closeWebSocket(session, .tryAgainLater, "too slow: output queue full")
        }
        session.lastSentID = event.id
        stats.addEvents(1, session.tag)
        writeWebSocket(event.webSocketFrame, session)
    }

    /// The fan-out's common case as a value instead of an action: a live WebSocket on its own
    /// socket, up to date, with nothing queued, gets the event's frame (the same checks and
    /// counting as `deliver(_:toWebSocket:)`, which handles everything else). Nil: not that
    /// simple; the connection then calls `deliverToWebSocket`. PERF: appending the write to the
    /// action buffer, applying and clearing it cost ~400 of ~930 instructions per copy.
    func liveWebSocketFrame(_ event: PublishedEvent) -> (bytes: [UInt8], tag: CounterTag)? {
        guard case .webSocket(let session) = state, session.http2Stream == nil, session.closing.canSendData,
              !session.catchingUp, event.id > session.lastSentID, outputQueued == 0,
              event.webSocketFrame.count <= config.maxQueue else { return nil }
        session.lastSentID = event.id
        stats.addEvents(1, session.tag)
        return (event.webSocketFrame, session.tag)
    }

    /// Replay (`since=` or the `since` command): retained events after `lastSentID`, written
    /// while the queue has room; the rest as the socket takes it.
    func pumpWebSocket(_ session: WebSocketSession) {
        guard session.closing.canSendData else { session.catchingUp = false; return }
        let (out, sent) = replay(after: &session.lastSentID, catchingUp: &session.catchingUp) { $0.webSocketFrame }
        stats.addEvents(sent, session.tag)
        writeWebSocket(out, session)
    }

    /// The `{"type":"since"}` command: replay retained events after `since`, then live.
    func replayWebSocket(since: Int, _ session: WebSocketSession) {
        let latest = feed.latestID
        session.lastSentID = since > latest ? 0 : since
        session.catchingUp = true
        pumpWebSocket(session)
    }

    // MARK: closing (§7)

    /// Start the closing handshake: send Close, wait at most `closeWait` for the peer's.
    func closeWebSocket(_ session: WebSocketSession, _ code: WebSocketCloseCode, _ reason: String) {
        guard case .sendClose(let c) = session.closing.sendClose(code: code.rawValue) else { return }
        sendFrame(.close, WebSocketFrameEncoder.closePayload(code: c, reason: Self.closeReason(reason)), session)
        if session.closing == .closed { return finishWebSocket(session) }
        session.closeDeadline = context.now() + LoopClock.nanos(seconds: config.closeWait)
        timerDue = 0
        emit(.schedule(atNanos: session.closeDeadline))
    }

    /// §7.1.7 "Fail the WebSocket Connection": send the close code the error carries, then
    /// close (after a lingering read, so the peer receives it).
    func failWebSocket(_ session: WebSocketSession, _ code: WebSocketCloseCode, _ reason: String) {
        if case .sendClose(let c) = session.closing.sendClose(code: code.rawValue) {
            sendFrame(.close, WebSocketFrameEncoder.closePayload(code: c, reason: Self.closeReason(reason)), session)
        }
        finishWebSocket(session)
    }

    /// A close reason is at most 123 bytes (§5.5: control payload <= 125, 2 for the code).
    private static func closeReason(_ reason: String) -> String {
        var r = Array(reason.utf8.prefix(123))
        while !r.isEmpty && !UTF8Validator.isValid(r) { r.removeLast() }
        return String(decoding: r, as: UTF8.self)
    }

    /// When `webSocketTimer` may next act (Conversation.timerDue): the same three deadlines.
    func webSocketTimerDue(_ session: WebSocketSession) -> Int64 {
        if case .closeSent = session.closing { return session.closeDeadline }
        var due = session.closing.canSendData ? session.lastPing + LoopClock.nanos(seconds: config.heartbeat) : .max
        if session.messageStarted > 0 { due = min(due, session.messageStarted + LoopClock.nanos(seconds: config.fragmentTimeout)) }
        return due
    }

    /// Pings (PROTOCOL.md §2), the peer's Close after ours, fragmented messages (§9).
    // LESSON: ws-ping
    func webSocketTimer(_ session: WebSocketSession, now: Int64) {
        if case .closeSent = session.closing {
            if now >= session.closeDeadline {              // no Close from the peer in time
                if let id = session.http2Stream { http2Session?.abortStream(id) } else { end() }
            }
            return
        }
        if session.messageStarted > 0 && now - session.messageStarted >= LoopClock.nanos(seconds: config.fragmentTimeout) {
            return failWebSocket(session, .policyViolation, "fragmented message not complete within \(JSON.number(config.fragmentTimeout)) s")
        }
        guard session.closing.canSendData, now - session.lastPing >= LoopClock.nanos(seconds: config.heartbeat) else { return }
        if session.unansweredPings >= 2 {
            return failWebSocket(session, .goingAway, "no pong to two pings")
        }
        session.unansweredPings += 1
        session.lastPing = now
        sendFrame(.ping, [], session)
    }
}
