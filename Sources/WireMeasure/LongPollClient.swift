// Long polling (PROTOCOL.md §2 GET /longpoll?since=N): ask, and the server holds the answer until
// there is an event after N (or 25 s pass with none: an empty response). Ask again at once.
// At the end of the run the client stops once it has every event of the run; the request then
// waiting at the server is abandoned (it was sent and counted; it has no answer).
import WireLoop

final class LongPollClient: PollingClient {
    init(name: String, context: RaceContext) {
        super.init(name: name, transport: .longpoll, context: context)
    }

    override func runStarted(runStart: Int64) {
        since = resumeID ?? context.firstID - 1
        ask()
    }

    override func runEnded() {
        if hasAllEvents { finishedForGood() }
    }

    /// A question left waiting at the end is answered by the next event, until the server
    /// sees our FIN.
    override var serverMayStillWrite: Bool { awaiting }

    override func answered() {
        if context.runOver && hasAllEvents { return finishedForGood() }
        ask()
    }

    override func answerLost() {
        if context.runOver && hasAllEvents { return finishedForGood() }
        // Dropped while waiting: ask again on a new connection, when the policy says.
        retryAfterDrop()
    }
}
