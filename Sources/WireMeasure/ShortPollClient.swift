// Short polling (CONTRACT §2 GET /poll?since=N): ask every `interval` seconds on one
// keep-alive connection, whatever happened since.
//
// Timeline of a run of length D with interval I: connect before the run; polls at
// start + I, start + 2I, ... (a fixed grid, so lateness does not accumulate) while before the
// end; then one last poll when the run ends, so events of the final interval arrive too.
// With D = 10 and I = 1 that is 10 requests. An answer with no events is an empty response.
import WireLoop

final class ShortPollClient: RaceClient {
    private let interval: Int64
    private var since = 0
    private var exchange = HTTPExchange()
    private var awaiting = false
    private var runStart: Int64 = 0
    private var runEnd: Int64 = 0
    private var tick = 0
    private var timer: LoopTimer?
    private var finalPollPending = false
    private var finalPollSent = false
    private var sendWhenConnected = false

    private let runLength: Int64

    init(name: String, context: RaceContext, interval: Double, runDuration: Double) {
        self.interval = LoopClock.nanos(seconds: interval)
        self.runLength = LoopClock.nanos(seconds: runDuration)
        super.init(name: name, transport: .poll, context: context)
    }

    override func didConnect() {
        becameReady()
        if sendWhenConnected { sendWhenConnected = false; sendPoll() }
    }

    override func runStarted(runStart: Int64) {
        since = context.firstID - 1
        self.runStart = runStart
        runEnd = runStart + runLength
        scheduleNext()
    }

    private func scheduleNext() {
        tick += 1
        let at = runStart + Int64(tick) * interval
        guard at < runEnd else { return }   // the poll at the end is the final one
        timer = context.loop.schedule(atNanos: at) { [weak self] in self?.pollNow() }
    }

    private func pollNow() {
        guard !context.runOver else { return }
        if awaiting {
            // The previous answer is late: skip this tick rather than queue requests.
        } else {
            sendPoll()
        }
        scheduleNext()
    }

    override func runEnded() {
        timer?.cancel()
        finalPollPending = true
        if !awaiting { sendFinalPoll() }
    }

    private func sendFinalPoll() {
        finalPollPending = false
        finalPollSent = true
        sendPoll()
    }

    private func sendPoll() {
        guard isOpen else {
            // The server closed the keep-alive connection: open another, then ask.
            sendWhenConnected = true
            if !isConnecting { connect() }
            return
        }
        awaiting = true
        exchange = HTTPExchange()
        send(request("/poll?since=\(since)&client=\(name)", [("Accept", "application/json")]))
    }

    override func didReceive(_ bytes: UnsafeRawBufferPointer) {
        switch exchange.feed(bytes) {
        case .needMore: break
        case .complete(let status, let body, let keepAlive): answered(status, body, keepAlive)
        case .failed(let why): fail(why)
        }
    }

    override func connectionLost() {
        guard awaiting else { return }
        if case .complete(let status, let body, _) = exchange.closed() {
            answered(status, body, false)
        } else {
            awaiting = false
            if context.runOver { finishedForGood() }
        }
    }

    private func answered(_ status: Int, _ body: [UInt8], _ keepAlive: Bool) {
        awaiting = false
        guard status == 200 else { return fail("GET /poll answered \(status)") }
        let answer = EventScanner.pollBody(body)
        if answer.events.isEmpty { counts.emptyResponses += 1 }
        for e in answer.events { received(e) }
        if let next = answer.next { since = next }
        if !keepAlive { closeSocket() }
        if finalPollPending {
            sendFinalPoll()
        } else if finalPollSent {
            finishedForGood()
        }
    }
}
