// Server-Sent Events (PROTOCOL.md §2 GET /sse): one request, then a response that never ends;
// each event is a `text/event-stream` block inside an HTTP/1.1 chunk. Bytes go through the
// response parser (de-chunking) and then the SSE decoder (WHATWG §9.2.6), as in a browser's
// EventSource.
//
// Like EventSource, a dropped stream is reopened with `Last-Event-ID: <last id seen>`, and the
// server replays what was missed (PROTOCOL.md §2: Last-Event-ID wins over since). When the
// reconnect happens is the race's policy (PROTOCOL.md §8 --reconnect), not the server's
// `retry:` (whose bytes count with the handshake). A stream an auto client falls back to
// after WebSocket has no Last-Event-ID of its own yet: it resumes with `since=` from what the WebSocket delivered.
import WireLoop
import WireCodec

final class SSEClient: RaceClient {
    private var parser = HTTPResponseParser()
    private var decoder = SSEDecoder()
    private var lastEventID = ""
    private var streaming = false
    /// "6\r\n: hb\n\n\r\n": the server's heartbeat in its chunk (PROTOCOL.md §2).
    static let heartbeatChunkBytes = HTTPSerializer.chunk(SSEEncoder.comment("hb")).count

    init(name: String, context: RaceContext) {
        super.init(name: name, transport: .sse, context: context)
    }

    override func didConnect() {
        parser = HTTPResponseParser()
        decoder = SSEDecoder()
        streaming = false
        var fields = context.headers.fields(for: .sse, hostHeader: context.endpoint.hostHeader)
        var target = "/sse?client=\(name)"
        if !lastEventID.isEmpty {
            fields.append(("Last-Event-ID", lastEventID))
        } else if let since = resumeID {
            target = "/sse?since=\(since)&client=\(name)"
        }
        let open = request(target, fields)
        counts.handshakeUp += open.count
        send(open)
    }

    override func runEnded() {
        if hasAllEvents { finishedForGood() }
    }

    /// The stream never ends: events keep coming until the server sees our FIN.
    override var serverMayStillWrite: Bool { true }

    override func didReceive(_ bytes: UnsafeRawBufferPointer) {
        parser.feed(bytes)
        do {
            while let part = try parser.nextPart() {
                switch part {
                case .head(let head):
                    guard head.status == 200 else { return httpFailed("GET /sse answered \(head.status)") }
                    streaming = true
                    counts.handshakeDown += head.wireCount
                    becameReady()
                case .body(let chunk):
                    let (comments, retry) = (decoder.comments, decoder.reconnectionTime)
                    decoder.feed(chunk)
                    while let event = decoder.nextEvent() {
                        counts.payloadDown += event.data.utf8.count
                        if let stamp = EventScanner.event(Array(event.data.utf8)) { received(stamp) }
                    }
                    // Ledger: each `: hb` comment came in a chunk of its own (11 bytes); a
                    // `retry:` block opens the stream, so it counts with the handshake.
                    counts.heartbeatDown += (decoder.comments - comments) * SSEClient.heartbeatChunkBytes
                    if let ms = decoder.reconnectionTime, ms != retry {
                        counts.handshakeDown += HTTPSerializer.chunk(Array("retry: \(ms)\n\n".utf8)).count
                    }
                    lastEventID = decoder.lastEventID
                    if context.runOver && hasAllEvents { return finishedForGood() }
                case .end:
                    // The server ended the stream (e.g. shutting down): like a drop.
                    closeSocket()
                    return connectionLost()
                }
            }
        } catch {
            fail("bad SSE response: \(error)")
        }
    }

    override func connectionLost() {
        if context.runOver && hasAllEvents { return finishedForGood() }
        reconnectAfterDrop()
    }
}
