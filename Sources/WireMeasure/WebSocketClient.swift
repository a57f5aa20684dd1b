// WebSocket (RFC 6455; PROTOCOL.md §2 GET /ws): the opening handshake, then one text message per
// event. As a client we
//   - send a fresh Sec-WebSocket-Key and check Sec-WebSocket-Accept (§4.1 "the client MUST
//     Fail the WebSocket Connection" if it is not Base64(SHA-1(key + GUID)));
//   - mask every frame we send with a fresh key (§5.3: "The masking key ... MUST pick a fresh
//     masking key");
//   - answer each Ping with a Pong carrying the same payload (§5.5.2);
//   - end with the closing handshake (§7.1.2): send Close 1000, wait for the server's Close
//     and for it to close the TCP connection (§7.1.1: the server closes first).
// A connection dropped before the client has every event of the run is reopened with
// `since=<last id seen>` after the reconnect policy's delay (PROTOCOL.md §8).
import WireLoop
import WireCodec

final class WebSocketClient: RaceClient {
    private enum Phase { case handshaking, open, closing }
    private var phase = Phase.handshaking
    private var key = ""
    private var handshake = HTTPResponseParser()
    private var decoder = WebSocketFrameDecoder(requireMasked: false, maxPayload: 16 << 20)
    private var assembler = WebSocketMessageAssembler(maxMessage: 16 << 20)
    private var closeTimer: LoopTimer?

    init(name: String, context: RaceContext) {
        super.init(name: name, transport: .ws, context: context)
    }

    override func didConnect() {
        phase = .handshaking
        handshake = HTTPResponseParser()
        decoder = WebSocketFrameDecoder(requireMasked: false, maxPayload: 16 << 20)
        assembler = WebSocketMessageAssembler(maxMessage: 16 << 20)
        // LESSON: ws-client-handshake
        key = WebSocketHandshake.makeKey()
        var target = "/ws?client=\(name)"
        if let since = resumeID { target = "/ws?since=\(since)&client=\(name)" }
        let upgrade = request(target, [("Upgrade", "websocket"), ("Connection", "Upgrade"),
                                       ("Sec-WebSocket-Key", key), ("Sec-WebSocket-Version", "13")]
                                       + context.headers.fields(for: .ws, hostHeader: context.endpoint.hostHeader))
        counts.handshakeUp += upgrade.count
        send(upgrade)
    }

    override func runEnded() {
        if hasAllEvents { startClosing() }
    }

    /// §7.1.2 Start the WebSocket Closing Handshake: a Close frame with code 1000.
    private func startClosing() {
        guard phase == .open else { return finishedForGood() }
        phase = .closing
        sendFrame(.close, WebSocketFrameEncoder.closePayload(code: WebSocketCloseCode.normalClosure.rawValue))
        // If the server never answers, close anyway.
        closeTimer = context.loop.schedule(afterNanos: 2_000_000_000) { [weak self] in self?.finishedForGood() }
    }

    private func sendFrame(_ opcode: WebSocketOpcode, _ payload: [UInt8]) {
        send(WebSocketFrameEncoder.encode(opcode: opcode, payload: payload,
                                          maskingKey: WebSocketFrameEncoder.makeMaskingKey()))
    }

    override func didReceive(_ bytes: UnsafeRawBufferPointer) {
        if phase == .handshaking {
            handshake.feed(bytes)
            do {
                guard let part = try handshake.nextPart() else { return }
                guard case .head(let head) = part else { return fail("bad WebSocket handshake answer") }
                counts.handshakeDown += head.wireCount
                guard head.status == 101 else { return httpFailed("GET /ws answered \(head.status), not 101") }
                // §4.1: the client checks Upgrade, Connection and Sec-WebSocket-Accept.
                guard head.header("Upgrade")?.lowercased() == "websocket",
                      head.header("Connection")?.lowercased().contains("upgrade") == true,
                      head.header("Sec-WebSocket-Accept") == WebSocketHandshake.acceptValue(forKey: key) else {
                    return httpFailed("WebSocket handshake: wrong Upgrade, Connection or Sec-WebSocket-Accept")
                }
            } catch {
                return fail("bad WebSocket handshake answer: \(error)")
            }
            phase = .open
            becameReady()
            let early = handshake.takeBufferedBytes()
            if !early.isEmpty { decoder.feed(early) }
            processFrames()
            return
        }
        decoder.feed(bytes)
        processFrames()
    }

    private func processFrames() {
        do {
            while isOpen, let frame = try decoder.nextFrame() {
                guard let message = try assembler.receive(frame) else { continue }
                switch message {
                case .text(let payload):
                    counts.payloadDown += payload.count
                    if let stamp = EventScanner.event(payload) { received(stamp) }
                    if phase == .open && context.runOver && hasAllEvents { startClosing() }
                case .binary:
                    break
                case .ping(let payload):
                    // §5.5.2 "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in
                    // response ... the Pong frame ... MUST have identical Application data".
                    // Ledger: the ping down (2-byte header, unmasked) and our pong up (6: + mask).
                    counts.heartbeatDown += 2 + payload.count
                    if phase == .open { counts.heartbeatUp += 6 + payload.count; sendFrame(.pong, payload) }
                case .pong:
                    break
                case .close(let code, _):
                    if phase == .open {
                        // The server started closing: echo its code (§5.5.1), then wait for EOF.
                        phase = .closing
                        sendFrame(.close, WebSocketFrameEncoder.closePayload(code: code ?? 1000))
                        closeTimer = context.loop.schedule(afterNanos: 2_000_000_000) { [weak self] in
                            self?.finishedForGood()
                        }
                    }
                }
            }
        } catch let error as WebSocketError {
            fail("WebSocket protocol error \(error.closeCode.rawValue): \(error.reason)")
        } catch {
            fail("WebSocket error: \(error)")
        }
    }

    override func connectionLost() {
        closeTimer?.cancel()
        if context.runOver && (phase == .closing || hasAllEvents) { return finishedForGood() }
        phase = .handshaking
        reconnectAfterDrop()
    }
}
