// The response buffer: `--buffer KIB` (PROTOCOL.md §7), a reverse proxy with response buffering
// on (nginx `proxy_buffering on`). It forwards a response's head at once and holds its body until
// the body ends or KIB KiB have piled up; then everything held goes out together. A long-poll
// answer is hardly changed (it is short and ends), but an SSE stream or a chunked feed sits in
// the buffer until enough events fill it: the classic "my EventSource gets events in bursts".
// After a `101 Switching Protocols` the bytes are not HTTP any more and pass through untouched.
//
// With no threshold it only watches: it holds nothing and reports the 101 (for the WebSocket
// killer). The bytes forwarded are always the bytes received, byte for byte: the parser
// (WireCodec's HTTPResponseParser) only tells us where heads and messages end in the raw input.
//
// DEVIATION: responses to HEAD requests are not told apart (we do not parse requests here); a
// HEAD answer with a Content-Length would wait for a body that never comes, until the threshold
// or the upstream's close releases it. Lab clients do not send HEAD through the proxy.
import WireCodec

public struct ResponseBuffer {
    /// nil: watch for 101 only, hold nothing.
    public let thresholdBytes: Int?
    private var parser = HTTPResponseParser(maxHeadBytes: 64 * 1024)
    private var held: [UInt8] = []
    /// Stream offset of held[0] and of everything fed so far.
    private var heldStart = 0
    private var fedTotal = 0
    private var passthrough = false
    private var inBody = false
    private var countedThisBody = false
    /// Bodies that the buffer held back at least once (the "fired" count).
    public private(set) var holds = 0

    public init(thresholdBytes: Int?) { self.thresholdBytes = thresholdBytes }

    public var heldBytes: Int { held.count }

    /// Bytes from upstream in; returns the bytes to forward now, and whether a 101 went by.
    public mutating func feed(_ bytes: [UInt8]) -> (release: [UInt8], switchedProtocols: Bool) {
        if passthrough { return (bytes, false) }
        held += bytes
        fedTotal += bytes.count
        parser.feed(bytes)
        var releaseUpTo = heldStart
        var switched = false
        parsing: while true {
            let part: HTTPResponsePart?
            do { part = try parser.nextPart() } catch {
                // Not HTTP we understand: stop interpreting and forward everything from now on.
                passthrough = true
                break parsing
            }
            guard let part else { break }
            let consumed = fedTotal - parser.bufferedByteCount
            switch part {
            case .head(let head):
                releaseUpTo = consumed          // the head goes at once
                if head.status == 101 {         // RFC 9110 §15.2.2: from here on, another protocol
                    switched = true
                    passthrough = true
                    break parsing
                }
                inBody = true
                countedThisBody = false
            case .body:
                if thresholdBytes == nil { releaseUpTo = consumed }
            case .end:
                releaseUpTo = consumed          // a whole body: out it goes
                inBody = false
            }
        }
        if passthrough || thresholdBytes == nil {
            return (releaseAll(), switched)
        }
        var out = release(upTo: releaseUpTo)
        if let threshold = thresholdBytes, held.count >= threshold {
            out += releaseAll()                 // KIB KiB piled up: flush the buffer
            countedThisBody = false
        } else if inBody && !held.isEmpty && !countedThisBody {
            countedThisBody = true
            holds += 1
        }
        return (out, switched)
    }

    /// Upstream closed: whatever is held goes out (a close-delimited body ends here).
    public mutating func closeInput() -> [UInt8] {
        passthrough = true
        return releaseAll()
    }

    private mutating func release(upTo offset: Int) -> [UInt8] {
        let n = offset - heldStart
        guard n > 0 else { return [] }
        let out = Array(held[0..<n])
        held.removeFirst(n)
        heldStart = offset
        return out
    }

    private mutating func releaseAll() -> [UInt8] {
        let out = held
        heldStart += held.count
        held = []
        return out
    }
}
