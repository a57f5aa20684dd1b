// One HTTP response being received by a polling client: the streaming parser's parts gathered
// into status + body (a polling answer is small, PROTOCOL.md §2 caps it at 1000 events).
import WireCodec

struct HTTPExchange {
    var parser = HTTPResponseParser()
    var status = 0
    var keepAlive = true
    var body: [UInt8] = []
    /// Bytes of the response head, as written (for the byte ledger's `headers`).
    var headBytes = 0

    enum Outcome { case needMore, complete(status: Int, body: [UInt8], keepAlive: Bool), failed(String) }

    mutating func feed(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        parser.feed(bytes)
        return advance()
    }

    /// The peer closed: a close-delimited body ends here; anything else is incomplete.
    mutating func closed() -> Outcome {
        parser.closeInput()
        return advance()
    }

    private mutating func advance() -> Outcome {
        do {
            while let part = try parser.nextPart() {
                switch part {
                case .head(let head):
                    status = head.status
                    headBytes = head.wireCount
                    let connection = head.header("Connection")?.lowercased() ?? ""
                    keepAlive = head.version == .http1_1 ? !connection.contains("close") : connection.contains("keep-alive")
                    body.removeAll(keepingCapacity: true)
                case .body(let bytes):
                    body += bytes
                case .end:
                    let done = Outcome.complete(status: status, body: body, keepAlive: keepAlive)
                    body = []
                    return done
                }
            }
            return .needMore
        } catch {
            return .failed("bad HTTP response: \(error)")
        }
    }
}
