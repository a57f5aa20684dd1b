// Deadlines of the conversation (PROTOCOL.md §3 and §9): the 408 for a slow head, the silent
// close of an idle keep-alive connection, a parked long poll's timeout, SSE heartbeats,
// WebSocket pings, the fragment and close-wait bounds, the lingering close. The worker's sweep
// calls `timer(now:)` a few times a second, but only once `timerDue` has come (the earliest
// time any of these could act), so 10,000 idle connections cost a comparison each per sweep.
import WireLoop
import WireCodec

extension Conversation {
    /// Timeouts and heartbeats; called by the loop's sweep a few times a second and by the
    /// timers this machine scheduled.
    func timer(now: Int64) {
        switch state {
        case .http(.head(let until)) where now >= until && outputQueued == 0:
            headTimedOut()      // (while an answer is still queued, --send-timeout governs)
        case .http(.idle(let until)) where now >= until && !parser.hasPartialRequest:
            end()     // PROTOCOL.md §3: an idle keep-alive connection may be closed silently.
        case .longPoll(let wait) where now >= wait.deadline:
            answerLongPoll(makeLongPollBody(wait))
        case .sse(let s):
            sseHeartbeat(s, now: now)
        case .webSocket(let w):
            webSocketTimer(w, now: now)
        case .http2(let h2):
            h2.timer(now: now)
        case .draining(let until, let latest) where now >= min(until ?? .max, latest):
            end()
        default:
            break
        }
        updateReading()
        timerDue = earliestTimerDeadline()
    }

    /// The earliest time `timer(now:)` may act in the current state: each case mirrors a case of
    /// `timer(now:)`, leaving out its extra conditions (so it may be early, never late).
    fileprivate func earliestTimerDeadline() -> Int64 {
        switch state {
        case .http(.head(let until)), .http(.idle(let until)): return until
        case .longPoll(let wait): return wait.deadline
        case .sse(let s): return s.lastWrite + LoopClock.nanos(seconds: config.heartbeat)
        case .webSocket(let w): return webSocketTimerDue(w)
        case .draining(let until, let latest): return min(until ?? .max, latest)
        case .http2: return 0       // its streams have deadlines of their own: asked every sweep
        case .awaitingStats, .closed: return .max
        }
    }
}
