// Short polling (PROTOCOL.md §2 GET /poll?since=N): ask every `interval` seconds on one
// keep-alive connection, whatever happened since.
//
// Timeline of a run of length D with interval I: connect before the run; polls at
// start + I, start + 2I, ... (a fixed grid, so lateness does not accumulate) while before the
// end; then one last poll when the run ends, so events of the final interval arrive too.
// With D = 10 and I = 1 that is 10 requests. An answer with no events is an empty response.
import WireLoop

final class ShortPollClient: PollingClient {
    private let interval: Int64
    private let runLength: Int64
    private var runStart: Int64 = 0
    private var runEnd: Int64 = 0
    private var tick = 0
    private var timer: LoopTimer?
    private var finalPollPending = false
    private var finalPollSent = false

    init(name: String, context: RaceContext, interval: Double, runDuration: Double) {
        self.interval = LoopClock.nanos(seconds: interval)
        self.runLength = LoopClock.nanos(seconds: runDuration)
        super.init(name: name, transport: .poll, context: context)
    }

    override func runStarted(runStart: Int64) {
        since = resumeID ?? context.firstID - 1
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
        guard !context.runOver, !isDone else { return }
        if !awaiting {
            ask()
        }   // else the previous answer is late: skip this tick rather than queue requests
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
        ask()
    }

    override func answered() {
        if finalPollPending {
            sendFinalPoll()
        } else if finalPollSent {
            finishedForGood()
        }
    }

    override func answerLost() {
        // The question is lost with its connection. During the run the next tick asks again
        // anyway, but an answer now is what a user waits for: ask again once reconnected. After
        // the run, the final poll must still get its answer.
        retryAfterDrop()
    }
}
