// The conversation on one connection, as a sans-I/O state machine (in the style of h11 and
// Hummingbird's WebSocketStateMachine): events go in, actions come out, and the machine never
// touches a socket. `Connection` owns the socket and the output queue and applies the actions.
//
// Theory of operation. The state is one enum whose cases carry their data:
//
//     .http ──(GET /longpoll, nothing new)──▶ .longPoll ──(event or timeout)──▶ .http
//       │ ──(GET /stats)────────────────────▶ .awaitingStats ──(every loop's counters)──▶ .http
//       │ ──(GET /sse)──────────────────────▶ .sse
//       │ ──(GET /ws, /echo + Upgrade)──────▶ .webSocket (open / closeSent / closeReceived / closed)
//       │ ──(first bytes: the HTTP/2 preface)─▶ .http2 (streams: HTTP2Session.swift)
//       └──(error, Connection: close, Close handshake, too slow)──▶ .draining ──(EOF or 2 s)──▶ .closed
//
// Events in: `bytesRead`, `outputChanged` (the socket took queued bytes), `eventPublished`,
// `timer`, `statsGathered`, `shutdown`. Actions out: `Action`, collected in `actions` and
// applied by the connection right after each event.
//
// Bounds (PROTOCOL.md §9) are states and checks of this machine: requests are taken one at a
// time (the next only once the previous answer is written), input is read only up to one more
// request head while an answer is pending (`readAllowance`), push subscribers past `--max-queue`
// are dropped, replays are paced by the output queue. Requests are counted in one place,
// `count(_:)`, where the machine takes a request.
import WireLoop
import WireCodec

final class Conversation {
    enum State {
        /// Reading requests and answering them in order; the deadline that applies while waiting.
        case http(HTTPWait)
        /// The answer to this request needs every loop's counters (`/stats`). `indirect` (the
        /// request is kept in a box): PERF, so a State is a few words, not a whole request, and
        /// the hot path's reads of it (every event on every connection) copy little.
        indirect case awaitingStats(HTTPRequest, StatsQuestion)
        case longPoll(LongPollWait)
        case sse(SSEStream)
        case webSocket(WebSocketSession)
        /// HTTP/2 with prior knowledge (RFC 9113 §3.3): requests are streams of one session.
        case http2(HTTP2Session)
        /// The last bytes are being written; then half-close and read until EOF (until `until`).
        /// `latest`: closed then whatever happens (after a WebSocket Close: `closeWait`).
        case draining(until: Int64?, latest: Int64)
        case closed
    }

    enum HTTPWait {
        /// A request head must be complete by then (PROTOCOL.md §3: 408).
        case head(until: Int64)
        /// Nothing buffered between requests: an idle keep-alive connection, closed silently then.
        case idle(until: Int64)
    }

    enum StatsQuestion { case all, client(String), open }

    enum Subscription { case sse, webSocket, longPoll, http2 }

    /// What the connection must do.
    enum Action {
        /// Write these bytes, counting them for `tag` as the socket takes them.
        case write([UInt8], CounterTag)
        case pauseReading
        case resumeReading
        case subscribe(Subscription)
        case unsubscribe
        /// Call `timer(now:)` at this monotonic time.
        case schedule(atNanos: Int64)
        /// Forget queued writes not yet started (a dropped subscriber's backlog), so what we
        /// write next (a Close, the last chunk) is the next thing the peer reads.
        case dropQueuedOutput
        /// Ask every loop for its counters, then call `statsGathered`.
        case gatherStats
        /// Everything queued is written: shut down our side (the peer still sends; we read).
        case halfClose
        /// Close the socket now.
        case close
    }

    let context: ConversationContext
    let isLoopback: Bool
    /// The literal address the connection arrived at (getsockname), asked at most once.
    let localAddress: () -> String?
    var cachedLocalHost: String??
    /// Changed only by this machine (its extensions in Polling, SSEStream, WebSocketSession).
    /// A new state may have an earlier deadline: the sweep must ask again (`timerDue`).
    var state: State { didSet { timerDue = 0 } }
    /// No `timer(now:)` call can do anything before this monotonic time (0: not known, ask at
    /// the next sweep). The worker's sweep (a few times a second, over every connection) skips
    /// a connection until then. PERF: calling the timer of 10,000 idle WebSockets cost ~440
    /// instructions each per sweep (4.4 million per sweep, a visible stall in a broadcast's
    /// p99); a comparison costs a few. It may be early (the call then finds nothing due),
    /// never late: set in `timer(now:)` from the state, reset to 0 by whatever could bring a
    /// deadline forward (a new state, bytes read, our Close).
    var timerDue: Int64 = 0
    /// The actions of the last event, until the connection has applied them. They live in the
    /// loop's buffer (`ConversationContext.actions`).
    var actions: [Action] { context.actions }

    var parser: HTTPRequestParser
    /// Bytes the connection has queued and the socket has not taken yet (told by `outputChanged`).
    private(set) var outputQueued = 0
    private(set) var readingPaused = false
    /// A request was just taken: the parser may hold the next one (answered once this one is written).
    var mayHaveMore = false
    /// Bytes of the HTTP/2 preface matched so far at the start of the connection; -1 once the
    /// first bytes are something else (HTTP/1.1).
    var prefaceMatched = 0
    /// The HTTP/2 session, once the preface came (kept after it ends, for the last counts).
    private(set) var http2Session: HTTP2Session?

    // Counting (PROTOCOL.md §2 /stats).
    /// Who the bytes of the current exchange belong to.
    var tag = CounterTag.none
    /// Bytes read whose request is not complete yet; attributed when it is.
    private var unattributedIn = 0
    private(set) var consumedSoFar = 0
    private(set) var countedTransports: UInt8 = 0
    private(set) var countedClients: [ClientCounters] = []

    init(context: ConversationContext, isLoopback: Bool, localAddress: @escaping () -> String? = { nil }) {
        self.context = context
        self.isLoopback = isLoopback
        self.localAddress = localAddress
        let config = context.config
        parser = HTTPRequestParser(maxHeadBytes: config.maxHeadBytes, maxBodyBytes: config.maxBodyBytes)
        state = .http(.head(until: context.now() + context.headTimeoutNanos))
    }

    var config: ServerConfig { context.config }
    var stats: StatsShard { context.stats }
    var feed: Feed { context.feed }

    func emit(_ action: Action) {
        #if DEBUG
        // One buffer per loop: whoever emits must have its actions applied before anyone else emits.
        assert(context.actions.isEmpty || context.actionsOwner == ObjectIdentifier(self),
               "another conversation's actions were not applied")
        context.actionsOwner = ObjectIdentifier(self)
        #endif
        context.actions.append(action)
    }
    func write(_ bytes: [UInt8], _ tag: CounterTag) { if !bytes.isEmpty { emit(.write(bytes, tag)) } }
    /// The connection took the actions. The buffer is the loop's and keeps its capacity.
    func clearActions() { context.actions.removeAll(keepingCapacity: true) }

    // MARK: events in

    func bytesRead(_ bytes: UnsafeRawBufferPointer) {
        timerDue = 0      // a request head begun (408), a fragmented message begun (1008)
        switch state {
        case .http, .longPoll, .awaitingStats:
            unattributedIn += bytes.count
            parser.feed(bytes)
            if prefaceMatched >= 0 && matchPreface(bytes) { break }
            if case .http = state { takeRequest() }
        case .http2(let session):
            session.received(bytes)
        case .sse(let stream):
            // A stream's client has nothing to say; count it anyway, keep none of it.
            stats.addBytesIn(bytes.count, tag)
            stream.inputSeen += bytes.count
        case .webSocket(let session):
            stats.addBytesIn(bytes.count, tag)
            receivedWebSocketBytes(bytes, session)
        case .draining:
            stats.addBytesIn(bytes.count, tag)
        case .closed:
            break
        }
        updateReading()
    }

    /// The output queue changed size (bytes written, or queued by the last actions).
    func outputChanged(queued: Int) {
        outputQueued = queued
        if queued == 0 && wantsDrained { outputDrained() }
        updateReading()
    }

    /// True while the machine has more to do once the output queue is empty.
    var wantsDrained: Bool {
        switch state {
        case .http: return mayHaveMore
        case .draining(let until, _): return until == nil
        case .sse(let s): return s.catchingUp
        case .webSocket(let w): return w.catchingUp
        case .http2(let h2): return h2.wantsDrained
        case .awaitingStats, .longPoll, .closed: return false
        }
    }

    private func outputDrained() {
        switch state {
        case .http: takeRequest()
        case .draining(nil, let latest):
            // RFC 9112 §9.6: half-close, then read until the peer closes (2 s at most), so the
            // kernel never answers unread input with RST and the peer gets our last bytes.
            state = .draining(until: context.now() + 2_000_000_000, latest: latest)
            emit(.halfClose)
        case .sse(let s): pumpSSE(s)
        case .webSocket(let w): pumpWebSocket(w)
        case .http2(let h2): h2.outputDrained()
        default: break
        }
    }

    /// The peer closed its side, or the socket failed.
    func peerClosed() { end() }

    /// Dropped from outside (`--max-buffered`, a lesson's "network drop"): close at once.
    func drop() { end() }

    /// Close now: leave the phase, say nothing more.
    func end() {
        guard !isClosed else { return }
        leavePhase()
        state = .closed
        emit(.close)
    }

    var isClosed: Bool { if case .closed = state { return true }; return false }

    /// Between requests on a keep-alive connection: nothing half-read (a lesson's network drop
    /// closes only such connections: an unread request would turn the close into a reset).
    var isIdleBetweenRequests: Bool {
        guard case .http = state else { return false }
        return !parser.hasPartialRequest && outputQueued == 0 && unattributedIn == 0
    }

    /// Has this connection carried `transport` (counted in /stats for it)?
    func hasCarried(_ transport: Transport) -> Bool {
        countedTransports & (1 << UInt8(transport.rawValue)) != 0
    }

    /// Server shutdown: say goodbye the way each phase can.
    func shutdown() {
        switch state {
        case .webSocket(let w): failWebSocket(w, .goingAway, "server shutting down")
        case .sse(let s): endSSE(s)
        case .http2(let h2): h2.shutdown()
        case .http, .longPoll, .awaitingStats, .draining: end()
        case .closed: break
        }
    }

    // MARK: phases

    /// Undo what the current phase registered (subscriber lists).
    func leavePhase() {
        switch state {
        case .longPoll, .sse, .webSocket, .http2: emit(.unsubscribe)
        default: break
        }
    }

    /// Close once everything queued is written (lingering close, RFC 9112 §9.6); at the latest
    /// `within` seconds from now (an HTTP answer has no such limit: `--send-timeout` governs).
    func finish(within seconds: Double? = nil) {
        guard !isClosed else { return }
        if case .draining = state { return }
        leavePhase()
        let latest = seconds.map { context.now() + LoopClock.nanos(seconds: $0) } ?? .max
        state = .draining(until: nil, latest: latest)
        if latest != .max { emit(.schedule(atNanos: latest)) }
    }

    /// Back to reading requests after an answer (a long poll answered, /stats written).
    func backToHTTP() {
        state = .http(.idle(until: context.now() + context.idleTimeoutNanos))
        mayHaveMore = true       // requests pipelined behind waited in the parser
    }

    // MARK: reading bounds (PROTOCOL.md §9 Input)

    /// How many bytes the connection may read now. While an answer is pending (queued output,
    /// a parked long poll, an open stream), at most one more request head is read.
    var readAllowance: Int {
        let oneHead = config.maxHeadBytes
        switch state {
        case .http:
            return outputQueued > 0 ? max(0, oneHead - parser.bufferedByteCount) : Int.max
        case .longPoll, .awaitingStats:
            return max(0, oneHead - parser.bufferedByteCount)
        case .sse(let s):
            return max(0, oneHead - s.inputSeen)
        case .webSocket:
            // Back-pressure: a peer that sends faster than it reads our answers (/echo) waits.
            return outputQueued >= Conversation.webSocketReadPause ? 0 : Int.max
        case .http2:
            // Not until the HTTP/2 preface is known; then back-pressure as for a WebSocket: a
            // peer that sends PINGs or SETTINGS faster than it reads our answers waits. DATA
            // waiting for the peer's window does not count: only reading brings WINDOW_UPDATE.
            return outputQueued >= Conversation.webSocketReadPause ? 0 : Int.max
        case .draining:
            return Int.max
        case .closed:
            return 0
        }
    }

    static let webSocketReadPause = 256 * 1024

    /// Pauses or resumes reading as `readAllowance` says (PROTOCOL.md §9).
    func updateReading() {
        guard !isClosed else { return }
        let pause = readAllowance == 0
        if pause != readingPaused {
            readingPaused = pause
            emit(pause ? .pauseReading : .resumeReading)
        }
    }

    // MARK: counting

    /// The bytes of the request just taken from the parser belong to `tag`.
    func attributeRequestBytes(to tag: CounterTag) {
        let consumed = parser.consumedByteCount
        let n = consumed - consumedSoFar
        consumedSoFar = consumed
        unattributedIn -= n
        stats.addBytesIn(n, tag)
    }

    /// Bytes read after the request that switched protocols (101) belong to the new one.
    func attributeRemainingInput(to tag: CounterTag) {
        if unattributedIn > 0 { stats.addBytesIn(unattributedIn, tag); unattributedIn = 0 }
    }

    /// The tag for a transport and a client name.
    func counterTag(_ transport: Transport?, _ client: String?) -> CounterTag {
        CounterTag(transport: transport, client: client.map { stats.client($0) })
    }

    /// Counts a request, once: its bytes, the request, and the connection the first time it
    /// carries this transport or client. Every answer passes here, errors included.
    @discardableResult
    func count(_ tag: CounterTag) -> CounterTag {
        self.tag = tag
        attributeRequestBytes(to: tag)
        countRequest(tag)
        return tag
    }

    /// A request (an HTTP/1.1 one, or an HTTP/2 stream) and, the first time this connection
    /// carries its transport or client, the connection.
    func countRequest(_ tag: CounterTag) {
        stats.addRequest(tag)
        var connectionTag = CounterTag.none
        if let t = tag.transport, countedTransports & (1 << UInt8(t.rawValue)) == 0 {
            countedTransports |= 1 << UInt8(t.rawValue)
            connectionTag.transport = t
        }
        if let c = tag.client, !countedClients.contains(where: { $0 === c }) {
            countedClients.append(c)
            connectionTag.client = c
        }
        stats.addConnection(connectionTag)
    }

    /// The connection is gone: it no longer counts as open for its transports and clients.
    func countClosed() {
        for t in Transport.allCases where countedTransports & (1 << UInt8(t.rawValue)) != 0 {
            stats.connectionClosed(CounterTag(transport: t, client: nil))
        }
        for c in countedClients { stats.connectionClosed(CounterTag(transport: nil, client: c)) }
        http2Session?.countClosed()
    }

    // MARK: HTTP/2 with prior knowledge (RFC 9113 §3.3)

    /// Compares the first bytes of the connection with the HTTP/2 preface (§3.4). True while
    /// they match it (the request parser must not see them); once all 24 are in, the
    /// connection becomes an HTTP/2 session.
    private func matchPreface(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let preface = http2ClientPreface
        for b in bytes where prefaceMatched < preface.count {
            guard b == preface[prefaceMatched] else { prefaceMatched = -1; return false }
            prefaceMatched += 1
        }
        if prefaceMatched == preface.count { startHTTP2() }
        return true
    }

    private func startHTTP2() {
        prefaceMatched = -1
        let early = parser.takeBufferedBytes()
        parser = HTTPRequestParser(maxHeadBytes: 0, maxBodyBytes: 0)   // not read again: free its buffer
        unattributedIn = 0
        tag = .http2Connection            // bytes read while draining belong to the connection
        let session = HTTP2Session(conversation: self)
        http2Session = session
        state = .http2(session)
        session.start(with: early)
    }
}
