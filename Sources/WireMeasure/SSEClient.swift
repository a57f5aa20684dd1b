// Server-Sent Events (PROTOCOL.md §2 GET /sse): one request, then a response that never ends;
// each event is a `text/event-stream` block inside an HTTP/1.1 chunk. Bytes go through the
// response parser (de-chunking) and then the SSE decoder (WHATWG §9.2.6), as in a browser's
// EventSource.
//
// Like EventSource, a dropped stream is reopened with `Last-Event-ID: <last id seen>`, and the
// server replays what was missed (PROTOCOL.md §2: Last-Event-ID wins over since).
import WireLoop
import WireCodec

final class SSEClient: RaceClient {
    private var parser = HTTPResponseParser()
    private var decoder = SSEDecoder()
    private var lastEventID = ""
    private var streaming = false
    /// Reconnection delay (EventSource's default is a few seconds; we are impatient).
    static let reconnectDelay: Int64 = 100_000_000

    init(name: String, context: RaceContext) {
        super.init(name: name, transport: .sse, context: context)
    }

    override func didConnect() {
        parser = HTTPResponseParser()
        decoder = SSEDecoder()
        streaming = false
        var fields = [("Accept", "text/event-stream"), ("Cache-Control", "no-cache")]
        if !lastEventID.isEmpty { fields.append(("Last-Event-ID", lastEventID)) }
        send(request("/sse?client=\(name)", fields))
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
                    guard head.status == 200 else { return fail("GET /sse answered \(head.status)") }
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
        if context.runOver { return finishedForGood() }
        context.loop.schedule(afterNanos: Self.reconnectDelay) { [weak self] in
            guard let self = self, !self.isDone else { return }
            self.connect()
        }
    }
}
