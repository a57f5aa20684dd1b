// Short polling and long polling (PROTOCOL.md §2). Both answer with the same body,
// `{"events":[...],"next":M,"missed":K}`; they differ only in *when*:
//  - /poll answers at once, even with no events (an "empty response": the cost of polling);
//  - /longpoll holds the request until an event with id > since exists, or `timeout` s pass.
// An answer holds as many events as fit in `--max-queue` (at least one; `next` says where to go
// on, PROTOCOL.md §9), so a pipelined burst of polls cannot make the server hold gigabytes.
import WireLoop
import WireCodec

extension HTTPRequest {
    /// `GET`, HTTP/1.1, keep-alive, no `Origin`: the answer's head depends on nothing in the
    /// request (no `Connection` line, no CORS field, a body).
    var isPlainKeepAliveGet: Bool {
        method == "GET" && version == .http1_1 && headers["Origin"] == nil && keepAlive
    }
}

/// A parked long poll: what to answer when an event comes or the deadline passes. A class, so
/// an idle connection's state carries one pointer, not a whole request inline.
final class LongPollWait {
    let request: HTTPRequest
    let since: Int
    let limit: Int
    let tag: CounterTag
    let deadline: Int64
    init(request: HTTPRequest, since: Int, limit: Int, tag: CounterTag, deadline: Int64) {
        self.request = request; self.since = since; self.limit = limit; self.tag = tag; self.deadline = deadline
    }
    /// Waiters with the same (since, limit) share one body during a broadcast.
    var key: Int { since &* 1001 &+ limit }
}

extension Conversation {
    // LESSON: poll-answer
    func answerPoll(_ request: HTTPRequest, _ q: TransportQuery, tag: CounterTag) {
        let slice = pollSlice(q)
        if slice.events.isEmpty && request.isPlainKeepAliveGet {
            // Nothing new, and a request whose answer has no per-request field: the loop's
            // prebuilt response (ConversationContext.emptyPollResponse).
            let bytes = context.emptyPollResponse(next: slice.next, missed: slice.missed) {
                responseBytes(to: request, status: 200, contentType: "application/json",
                              body: PollBody(slice).bytes, extraHeaders: "", keepAlive: true)
            }
            return write(bytes, tag)
        }
        sendPollBody(request, PollBody(slice, maxBytes: config.maxQueue), tag: tag)
    }

    /// The events a /poll answers with (HTTP/1.1 and HTTP/2 alike).
    func pollSlice(_ q: TransportQuery) -> Feed.Slice {
        if let since = q.since { return feed.events(after: since, limit: q.limit) }
        // No `since`: "where are we?" — no events, next = the latest id.
        let latest = feed.latestID
        return Feed.Slice(events: [], next: latest, missed: 0, latest: latest)
    }

    /// A long poll is answered at once when there is something to say already (or the client
    /// is ahead of us: a restart, answered as since=0), or when it asked not to wait.
    static func longPollAnswersNow(_ slice: Feed.Slice, _ q: TransportQuery) -> Bool {
        !slice.events.isEmpty || (slice.latest > slice.next && q.limit == 0) || q.timeout == 0
    }

    private func sendPollBody(_ request: HTTPRequest, _ body: PollBody, tag: CounterTag) {
        stats.addEvents(body.eventCount, tag)
        respond(to: request, status: 200, contentType: "application/json", body: body.bytes, tag: tag)
    }

    // LESSON: longpoll-park
    func startLongPoll(_ request: HTTPRequest, _ q: TransportQuery, tag: CounterTag) {
        // Without `since`, wait for the first event after the latest.
        let since = q.since ?? feed.latestID
        let slice = feed.events(after: since, limit: q.limit)
        if Conversation.longPollAnswersNow(slice, q) {
            return sendPollBody(request, PollBody(slice, maxBytes: config.maxQueue), tag: tag)
        }
        let deadline = context.now() + Int64(q.timeout) * 1_000_000_000
        state = .longPoll(LongPollWait(request: request, since: slice.next, limit: q.limit, tag: tag, deadline: deadline))
        emit(.subscribe(.longPoll))
        emit(.schedule(atNanos: deadline))
    }

    /// The parked long poll, if any (the broadcast groups waiters by `key`).
    var longPollWait: LongPollWait? {
        if case .longPoll(let w) = state { return w }
        return nil
    }

    func makeLongPollBody(_ wait: LongPollWait) -> PollBody {
        PollBody(feed.events(after: wait.since, limit: wait.limit), maxBytes: config.maxQueue)
    }

    /// An event came (with a body shared by waiters of the same key) or the deadline passed.
    func answerLongPoll(_ body: PollBody) {
        guard case .longPoll(let wait) = state else { return }
        emit(.unsubscribe)
        backToHTTP()
        sendPollBody(wait.request, body, tag: wait.tag)
    }
}
