// The `auto` client (PROTOCOL.md §8 `--transports auto`): one client that negotiates like
// SignalR, Engine.IO or Phoenix. It runs one transport client at a time — a "step" — and
// AutoNegotiation decides, when a step fails or drops, whether to move down the ladder
// (ws ▶ sse ▶ longpoll ▶ poll) or reconnect on the same rung.
//
// A step is an ordinary ShortPollClient, LongPollClient, SSEClient or WebSocketClient that has
// joined this one: it writes into this client's ledger (bytes, events, reconnects), records
// latency in the `auto` histogram, and reports readiness, failure and drops here instead of
// to the race. So `race-auto-1`'s counts are every byte of every step, and the server's
// /stats for `race-auto-1` shows the same. A new step resumes where the last one stopped
// (`resumeID`): falling back costs time, never events.
//
// The auto client itself owns no socket; it is a RaceClient only so that the race treats it
// like any other (ready, run started, run ended, done).
import WireLoop

final class AutoClient: RaceClient {
    private let interval: Double
    private let runDuration: Double
    private var negotiation: AutoNegotiation
    private var step: RaceClient?
    private var runStart: Int64?

    init(name: String, context: RaceContext, interval: Double, runDuration: Double) {
        self.interval = interval
        self.runDuration = runDuration
        negotiation = AutoNegotiation(fallbackAfterNanos: context.fallbackAfterNanos)
        super.init(name: name, transport: .auto, context: context)
    }

    var pathText: String { negotiation.pathText }

    override func begin() {
        start(negotiation.current)
    }

    /// Starts the step for `transport`, tagged with our name.
    private func start(_ transport: RaceTransport) {
        let client: RaceClient
        switch transport {
        case .poll: client = ShortPollClient(name: name, context: context, interval: interval, runDuration: runDuration)
        case .longpoll: client = LongPollClient(name: name, context: context)
        case .sse: client = SSEClient(name: name, context: context)
        case .ws, .auto: client = WebSocketClient(name: name, context: context)
        }
        client.join(self)
        step = client
        ledger.path = negotiation.path
        client.begin()
        if let runStart { client.startRun(at: runStart) }
        if context.runOver { client.runEnded() }
    }

    /// Retires the current step and starts the next rung at once — from a timer of delay 0, i.e.
    /// after the loop has handled every event of this round: the new socket may get the file
    /// descriptor number the old one just gave back, and an event still pending for the old
    /// one (the hang-up that follows a reset) must not reach the new step.
    private func fallBack(to transport: RaceTransport) {
        step?.retire()
        step = nil
        ledger.dropped(at: LoopClock.monotonicNanos())
        ledger.reconnecting()
        context.loop.schedule(afterNanos: 0) { [weak self] in
            guard let self, !self.isDone else { return }
            self.start(transport)
        }
    }

    override func runStarted(runStart: Int64) {
        self.runStart = runStart
        step?.startRun(at: runStart)
    }

    override func runEnded() {
        step?.runEnded()
    }

    override func finishedForGood() {
        if let step, !step.isDone, step.supervisor === self {
            step.finishedForGood()      // comes back through stepFinished
        } else {
            super.finishedForGood()
        }
    }

    override func abandonLinger() {
        step?.abandonLinger()
        super.abandonLinger()
    }

    // MARK: what the steps report

    func stepReady(_ client: RaceClient) {
        guard client === step else { return }
        becameReady()
    }

    /// An HTTP error, or no 101: move down, or give up on the last rung.
    func stepFailed(_ client: RaceClient, _ why: String) {
        guard client === step else { return }
        switch negotiation.httpFailed() {
        case .fallBack(let next): fallBack(to: next)
        case .reconnect: client.reconnectAfterDrop()
        case .giveUp:
            step?.retire()
            fail(why)
        }
    }

    /// A connection of the step ended. True when the auto client moved on (the step is retired);
    /// false: the step reconnects itself as its policy says.
    func stepDropped(_ client: RaceClient, openedAt: Int64?, delivered: Int, now: Int64) -> Bool {
        guard client === step else { return false }
        guard case .fallBack(let next) = negotiation.dropped(openedAt: openedAt, delivered: delivered, now: now) else {
            return false
        }
        fallBack(to: next)
        return true
    }

    func stepFinished(_ client: RaceClient) {
        guard client === step else { return }
        super.finishedForGood()
    }
}

