// Server-Sent Events (PROTOCOL.md §2 GET /sse): one request, then a response that never ends;
// each event is a `text/event-stream` block inside an HTTP/1.1 chunk. Bytes go through the
// response parser (de-chunking) and then the SSE decoder (WHATWG §9.2.6), as in a browser's
// EventSource.
//
// Like EventSource, a dropped stream is reopened with `Last-Event-ID: <last id seen>`, and the
// server replays what was missed (PROTOCOL.md §2: Last-Event-ID wins over since). When the
// reconnect happens is the race's policy (PROTOCOL.md §8 --reconnect), not the server's
// `retry:`. A stream an auto client falls back to after WebSocket has no Last-Event-ID of its
// own yet: it resumes with `since=` from what the WebSocket delivered.
import WireLoop
import WireCodec

final class SSEClient: RaceClient {
    private var parser = HTTPResponseParser()
    private var decoder = SSEDecoder()
    private var lastEventID = ""
    private var streaming = false

    init(name: String, context: RaceContext) {
        super.init(name: name, transport: .sse, context: context)
    }

    override func didConnect() {
        parser = HTTPResponseParser()
        decoder = SSEDecoder()
        streaming = false
        var fields = [("Accept", "text/event-stream"), ("Cache-Control", "no-cache")]
        var target = "/sse?client=\(name)"
        if !lastEventID.isEmpty {
            fields.append(("Last-Event-ID", lastEventID))
        } else if let since = resumeID {
            target = "/sse?since=\(since)&client=\(name)"
        }
        send(request(target, fields))
    }

    override func runEnded() {
        if hasAllEvents { finishedForGood() }
    }

    override func didReceive(_ bytes: UnsafeRawBufferPointer) {
        parser.feed(bytes)
        do {
            while let part = try parser.nextPart() {
                switch part {
                case .head(let head):
                    guard head.status == 200 else { return httpFailed("GET /sse answered \(head.status)") }
                    streaming = true
                    becameReady()
                case .body(let chunk):
                    decoder.feed(chunk)
                    while let event = decoder.nextEvent() {
                        if let stamp = EventScanner.event(Array(event.data.utf8)) { received(stamp) }
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
