// Short polling and long polling (PROTOCOL.md §2). Both answer with the same body,
// `{"events":[...],"next":M,"missed":K}`; they differ only in *when*:
//  - /poll answers at once, even with no events (an "empty response": the cost of polling);
//  - /longpoll holds the request until an event with id > since exists, or `timeout` s pass.
import WireLoop
import WireCodec

/// A parked long poll: what to answer when an event comes or the timer fires. A class, so an
/// idle connection pays one pointer for it, not a whole request inline (memory per connection).
final class LongPollWait {
    let request: HTTPRequest
    let since: Int
    let limit: Int
    let tag: CounterTag
    var timer: LoopTimer?
    init(request: HTTPRequest, since: Int, limit: Int, tag: CounterTag) {
        self.request = request; self.since = since; self.limit = limit; self.tag = tag
    }
}

extension Connection {
    // LESSON: poll-answer
    func answerPoll(_ request: HTTPRequest, since: Int?, limit: Int, tag: CounterTag) {
        let slice: Feed.Slice
        if let since = since {
            slice = worker.feed.events(after: since, limit: limit)
        } else {
            // No `since`: "where are we?" — no events, next = the latest id.
            let latest = worker.feed.latestID
            slice = Feed.Slice(events: [], next: latest, missed: 0, latest: latest)
        }
        sendPollBody(request, PollBody(slice), tag: tag)
    }

    private func sendPollBody(_ request: HTTPRequest, _ body: PollBody, tag: CounterTag) {
        stats.addEvents(body.eventCount, tag)
        respond(to: request, status: 200, contentType: "application/json", body: body.bytes, tag: tag)
    }

    // LESSON: longpoll-park
    func startLongPoll(_ request: HTTPRequest, since: Int?, limit: Int, timeout: Int, tag: CounterTag) {
        let feed = worker.feed
        // Without `since`, wait for the first event after the latest.
        let since = since ?? feed.latestID
        let slice = feed.events(after: since, limit: limit)
        // Something to say already (or the client is ahead of us: a restart, answered as since=0).
        if !slice.events.isEmpty || (slice.latest > slice.next && limit == 0) || timeout == 0 {
            return sendPollBody(request, PollBody(slice), tag: tag)
        }
        phase = .longPolling
        let wait = LongPollWait(request: request, since: slice.next, limit: limit, tag: tag)
        wait.timer = worker.loop.schedule(afterNanos: Int64(timeout) * 1_000_000_000) { [weak self] in
            guard let self = self, self.phase == .longPolling else { return }
            self.answerLongPoll(self.makeLongPollBody())
        }
        longPoll = wait
        worker.longPollWaiters.add(self)
    }

    /// Waiters with the same (since, limit) share one body during a broadcast.
    var longPollKey: Int? {
        guard let w = longPoll else { return nil }
        return w.since &* 1001 &+ w.limit
    }

    func makeLongPollBody() -> PollBody {
        let w = longPoll!
        return PollBody(worker.feed.events(after: w.since, limit: w.limit))
    }

    func answerLongPoll(_ body: PollBody) {
        guard phase == .longPolling, let wait = longPoll else { return }
        wait.timer?.cancel()
        longPoll = nil
        worker.longPollWaiters.remove(self)
        phase = .http
        sendPollBody(wait.request, body, tag: wait.tag)
        // Requests pipelined behind the long poll waited in the parser.
        if phase == .http { processRequests() }
    }
}
