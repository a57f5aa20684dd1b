// What the two polling clients share (PROTOCOL.md §2): one GET at a time on a keep-alive
// connection, each answered with `{"events":[...],"next":M,"missed":K}`. They differ only in
// *when* they ask: on a timer (ShortPollClient) or again at once (LongPollClient).
//
// A poller resumes by construction: every question carries `since=`, the last id it has. A
// connection that drops while a question is out (PROTOCOL.md §8) is reopened after the
// reconnect policy's delay and the question asked again; one that drops while idle is
// reopened the same way, and the next question waits for it.
import WireLoop

class PollingClient: RaceClient {
    /// "/poll" or "/longpoll".
    let path: String
    /// The `since` of the next question: the `next` of the last answer.
    var since = 0
    private var exchange = HTTPExchange()
    /// A question is out and its answer has not come yet.
    private(set) var awaiting = false
    private var askWhenConnected = false

    override init(name: String, transport: RaceTransport, context: RaceContext) {
        path = transport.path
        super.init(name: name, transport: transport, context: context)
    }

    override func didConnect() {
        becameReady()
        if askWhenConnected { askWhenConnected = false; ask() }
    }

    /// GET path?since=N&client=NAME. If the server closed the keep-alive connection, open
    /// another first (that counts as a new TCP connection) and ask when it is up.
    func ask() {
        guard !isDone else { return }
        guard isOpen else {
            askWhenConnected = true
            if !isConnecting && !reconnectPending { connectSoon() }
            return
        }
        awaiting = true
        exchange = HTTPExchange()
        let question = request("\(path)?since=\(since)&client=\(name)", context.headers.fields(for: transport, hostHeader: context.endpoint.hostHeader))
        counts.headersUp += question.count
        send(question)
    }

    override func didReceive(_ bytes: UnsafeRawBufferPointer) {
        switch exchange.feed(bytes) {
        case .needMore: break
        case .complete(let status, let body, let keepAlive): take(status, body, keepAlive)
        case .failed(let why): fail(why)
        }
    }

    override func connectionLost() {
        guard awaiting else { return idleConnectionLost() }
        if case .complete(let status, let body, _) = exchange.closed() {
            take(status, body, false)    // a close-delimited answer ends with the connection
        } else {
            awaiting = false
            answerLost()
        }
    }

    /// The connection dropped between questions: reopen it as the policy says, so a middlebox
    /// that cut it costs the next question nothing but the wait. After the run, no need.
    func idleConnectionLost() {
        if context.runOver || context.firstID == Int.max { return }
        reconnectAfterDrop()
    }

    /// The connection dropped while a question was out: ask again on a new connection after
    /// the policy's delay.
    func retryAfterDrop() {
        askWhenConnected = true
        reconnectAfterDrop()
    }

    /// An answer: record its events (an answer with none is an "empty response"), move `since`.
    private func take(_ status: Int, _ body: [UInt8], _ keepAlive: Bool) {
        awaiting = false
        guard status == 200 else { return httpFailed("GET \(path) answered \(status)") }
        let answer = EventScanner.pollBody(body)
        counts.headersDown += exchange.headBytes
        counts.payloadDown += EventScanner.eventBytes(body, events: answer.events.count)
        if answer.events.isEmpty { counts.emptyResponses += 1 }
        for e in answer.events { received(e) }
        if let next = answer.next { since = next }
        if !keepAlive { closeSocket() }
        answered()
    }

    /// Called after each answer is recorded.
    func answered() {}
    /// Called when the connection dropped while a question was out.
    func answerLost() {}
}
