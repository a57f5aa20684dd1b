// Long polling (CONTRACT §2 GET /longpoll?since=N): ask, and the server holds the answer until
// there is an event after N (or 25 s pass with none: an empty response). Ask again at once.
// At the end of the run the client stops once it has every event of the run; the request then
// waiting at the server is abandoned (it was sent and counted; it has no answer).
import WireLoop

final class LongPollClient: RaceClient {
    private var since = 0
    private var exchange = HTTPExchange()
    private var awaiting = false
    private var started = false
    private var sendWhenConnected = false

    init(name: String, context: RaceContext) {
        super.init(name: name, transport: .longpoll, context: context)
    }

    override func didConnect() {
        becameReady()
        if sendWhenConnected { sendWhenConnected = false; ask() }
    }

    override func runStarted(runStart: Int64) {
        since = context.firstID - 1
        started = true
        ask()
    }

    override func runEnded() {
        if hasAllEvents { finishedForGood() }
    }

    private func ask() {
        guard isOpen else {
            sendWhenConnected = true
            if !isConnecting { connect() }
            return
        }
        awaiting = true
        exchange = HTTPExchange()
        send(request("/longpoll?since=\(since)&client=\(name)", [("Accept", "application/json")]))
    }

    override func didReceive(_ bytes: UnsafeRawBufferPointer) {
        switch exchange.feed(bytes) {
        case .needMore: break
        case .complete(let status, let body, let keepAlive): answered(status, body, keepAlive)
        case .failed(let why): fail(why)
        }
    }

    override func connectionLost() {
        if awaiting, case .complete(let status, let body, _) = exchange.closed() {
            return answered(status, body, false)
        }
        awaiting = false
        if context.runOver { return finishedForGood() }
        // Dropped while waiting: ask again on a new connection after a moment.
        context.loop.schedule(afterNanos: 100_000_000) { [weak self] in self?.ask() }
    }

    private func answered(_ status: Int, _ body: [UInt8], _ keepAlive: Bool) {
        awaiting = false
        guard status == 200 else { return fail("GET /longpoll answered \(status)") }
        let answer = EventScanner.pollBody(body)
        if answer.events.isEmpty { counts.emptyResponses += 1 }
        for e in answer.events { received(e) }
        if let next = answer.next { since = next }
        if !keepAlive { closeSocket() }
        if context.runOver && hasAllEvents { return finishedForGood() }
        ask()
    }
}
