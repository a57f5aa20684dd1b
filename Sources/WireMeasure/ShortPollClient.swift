// Short polling (PROTOCOL.md §2 GET /poll?since=N): ask every `interval` seconds on one
// keep-alive connection, whatever happened since.
//
// Timeline of a run of length D with interval I: connect before the run; polls at
// start + φ + I, start + φ + 2I, ... (a fixed grid, so lateness does not accumulate) while
// before the end; then one last poll when the run ends, so events of the final interval arrive
// too. With D = 10 and I = 1 that is 10 requests. An answer with no events is an empty response.
// φ is drawn per client, uniform in [0, I): clients started together do not poll in lockstep,
// and several clients sample several phases between the poll timer and the generator (an
// event waits for the next poll, so the phase decides the latency of a whole run when events
// come less often than polls).
import WireLoop

final class ShortPollClient: PollingClient {
    private let interval: Int64
    private let runLength: Int64
    private var runStart: Int64 = 0
    private var runEnd: Int64 = 0
    private var tick = 0
    private let phase: Int64
    private var timer: LoopTimer?
    private var finalPollPending = false
    private var finalPollSent = false

    /// `phaseFraction`: φ as a share of the interval (a test pins it; race draws it).
    init(name: String, context: RaceContext, interval: Double, runDuration: Double,
         phaseFraction: Double = Double.random(in: 0..<1)) {
        self.interval = LoopClock.nanos(seconds: interval)
        self.runLength = LoopClock.nanos(seconds: runDuration)
        self.phase = Int64(phaseFraction * Double(LoopClock.nanos(seconds: interval)))
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
        let at = runStart + phase + Int64(tick) * interval
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
