// A Worker is the server's state on one loop thread: its listener, its connections, its
// subscribers, its stats shard. Everything here runs on that loop's thread.
import WireLoop
import WireCodec

public final class Worker {
    public let index: Int
    /// Strong while running (an unowned reference costs a slow refcount path on every access);
    /// `release` breaks the cycle so a stopped server is freed.
    private(set) var server: Server!
    public let loop: EventLoop
    let stats: StatsShard
    /// Copies of the server's, stored here so the hot path reads them without a detour.
    let config: ServerConfig
    let feed: Feed
    /// What this loop's conversations consult (feed, settings, counters, date line).
    let context: ConversationContext
    private var listener: Listener?

    /// Every open connection, for the housekeeping sweep (timeouts, heartbeats).
    private(set) var connections: [Connection] = []
    /// Push subscribers, for broadcast. Swap-remove keeps removal O(1).
    var sseSubscribers = SubscriberList()
    var webSocketSubscribers = SubscriberList()
    var longPollWaiters = SubscriberList()
    /// HTTP/2 connections with push streams or parked long polls (each handles its own streams).
    var http2Sessions = SubscriberList()

    /// One read buffer for the whole loop: a connection's bytes are handed to its parser at once.
    private(set) var readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    /// Output queued by this loop's connections (PROTOCOL.md §9 `--max-buffered` sums all loops).
    private(set) var queuedBytes = 0
    /// Set (on this loop) while the server as a whole queues more than `--max-buffered`.
    var overBuffered: Bool {
        get { context.isOverBuffered }
        set { context.isOverBuffered = newValue }
    }
    private var dropScheduled = false
    private var shuttingDown = false
    private var shutdownDone: (() -> Void)?

    init(index: Int, server: Server, loop: EventLoop, stats: StatsShard) {
        self.index = index
        self.server = server
        self.loop = loop
        self.stats = stats
        self.config = server.config
        self.feed = server.feed
        context = ConversationContext(config: server.config, feed: server.feed, stats: stats, port: 0,
                                      controlToken: server.controlToken, clock: loop.clock)
        context.control = { [weak server] rate, size in server?.control(rate: rate, size: size) }
        context.loop = loop
    }

    /// Watches the server's one listening socket (shared by every loop, Server.swift);
    /// `watching` runs on the loop once it does.
    func startListening(fd: Int32, port: Int, watching: @escaping () -> Void = {}) {
        let l = Listener(fd: fd, worker: self)
        listener = l
        context.port = port
        loop.execute { [self] in
            l.start()
            scheduleHousekeeping()
            watching()
        }
    }

    /// Stops watching the listening socket; the Server closes it once no loop watches it.
    func stopListening() {
        listener?.stop()
        listener = nil
    }

    func accepted(fd: Int32, isLoopback: Bool) {
        if shuttingDown { Socket.closeFD(fd); return }
        let c = Connection(fd: fd, worker: self, isLoopback: isLoopback)
        c.registryIndex = connections.count
        connections.append(c)
        loop.add(fd: fd, handler: c)
    }

    /// Called by a connection as it closes.
    func forget(_ c: Connection) {
        let i = c.registryIndex
        guard i >= 0, i < connections.count, connections[i] === c else { return }
        let last = connections.removeLast()
        if i < connections.count { connections[i] = last; last.registryIndex = i }
        c.registryIndex = -1
        unsubscribe(c)
        if shuttingDown && connections.isEmpty { finishShutdown() }
    }

    func unsubscribe(_ c: Connection) {
        sseSubscribers.remove(c)
        webSocketSubscribers.remove(c)
        longPollWaiters.remove(c)
        http2Sessions.remove(c)
    }

    // MARK: fan-out

    /// Which push list starts the next broadcast, and where in it (see `broadcast`).
    private var fanOutTurn = 0

    /// A new event: write its pre-framed bytes to every subscriber on this loop.
    ///
    /// Fair fan-out: the writes of one broadcast take time (about a microsecond each), so whoever
    /// is written last waits longest. Writing every WebSocket before any SSE stream would make
    /// WebSocket look faster in a crowd for a reason that is list order, not the protocol. So
    /// the two lists are interleaved (one WebSocket, one SSE, ...) and the starting point
    /// rotates by one subscriber per broadcast: over a run every subscriber waits, on average,
    /// for half the writes.
    // LESSON: fan-out
    func broadcast(_ event: PublishedEvent) {
        let ws = webSocketSubscribers.members, sse = sseSubscribers.members
        fanOutTurn &+= 1
        Self.fanOutOrder(webSockets: ws.count, streams: sse.count, turn: fanOutTurn) { isWebSocket, i in
            if isWebSocket { ws[i].deliver(event, webSocket: true) } else { sse[i].deliver(event, webSocket: false) }
        }
        for c in http2Sessions.members { c.deliverHTTP2(event) }
        if !longPollWaiters.isEmpty {
            // Waiters that asked for the same `since` and `limit` get the same body: build it once.
            var bodies: [Int: PollBody] = [:]
            for c in longPollWaiters.members {
                guard let wait = c.conversation.longPollWait else { continue }
                let body = bodies[wait.key] ?? c.conversation.makeLongPollBody(wait)
                bodies[wait.key] = body
                // limit=0 asks only to hear *that* something happened: answer it too.
                if body.eventCount > 0 || wait.limit == 0 { c.answerLongPoll(body) }
            }
        }
    }

    /// The order of one broadcast's writes: WebSocket and SSE subscribers interleaved, starting
    /// at position `turn` (mod the longer list) and, on odd turns, with the SSE one first.
    @inline(__always)
    static func fanOutOrder(webSockets: Int, streams: Int, turn: Int, _ visit: (_ isWebSocket: Bool, _ index: Int) -> Void) {
        let longest = max(webSockets, streams)
        guard longest > 0 else { return }
        let start = turn % longest
        let webSocketFirst = turn & 1 == 0
        for k in 0..<longest {
            let i = start + k < longest ? start + k : start + k - longest
            if webSocketFirst {
                if i < webSockets { visit(true, i) }
                if i < streams { visit(false, i) }
            } else {
                if i < streams { visit(false, i) }
                if i < webSockets { visit(true, i) }
            }
        }
    }

    /// Closes every stream of `transport` on this loop without a goodbye, as a lost network
    /// would (a lesson's "the network dropped" moment; clients resume with Last-Event-ID or
    /// `since`).
    func dropStreams(of transport: Transport) {
        switch transport {
        case .sse: for c in sseSubscribers.members { c.drop() }
        case .ws: for c in webSocketSubscribers.members { c.drop() }
        case .longpoll: for c in longPollWaiters.members { c.drop() }
        case .poll:
            // Keep-alive connections that have carried a short poll and have no request in
            // progress (an unread request would turn the close into a reset).
            for c in connections where c.conversation.hasCarried(.poll) && c.isIdleBetweenRequests { c.drop() }
        }
        for c in http2Sessions.members where c.conversation.http2Session?.carries(transport) == true { c.drop() }
    }

    // MARK: /stats: every loop's counters, merged without a lock on the request path

    func gatherStats(for c: Connection) {
        server.gatherTotals(replyOn: self) { totals, uptime in c.statsGathered(totals, uptime: uptime) }
    }

    // MARK: PROTOCOL.md §9 --max-buffered

    func queuedBytesChanged(by delta: Int) {
        guard delta != 0 else { return }
        queuedBytes += delta
        server.buffered.add(delta)
        if delta > 0 && server.buffered.isOver && !dropScheduled {
            // Not now: this runs inside a connection's write. On the next turn of the loop.
            dropScheduled = true
            loop.execute { [self] in dropScheduled = false; dropBiggestHolders() }
        }
    }

    /// Past `--max-buffered`: drop this loop's connections holding the most, biggest first,
    /// until the server is under the limit again.
    func dropBiggestHolders() {
        let holders = connections.filter { $0.pendingOutput > 0 }.sorted { $0.pendingOutput > $1.pendingOutput }
        for c in holders {
            guard server.buffered.isOver else { return }
            c.drop()
        }
    }

    // MARK: housekeeping: timeouts and heartbeats

    private func scheduleHousekeeping() {
        let tick = min(LoopClock.nanos(seconds: 0.25), max(LoopClock.nanos(seconds: 0.01), LoopClock.nanos(seconds: config.heartbeat / 4)))
        // A strong capture on purpose: a worker lives as long as its loop, and a weak reference
        // would give it a side table, sending every retain and release of it (several per
        // request) down the runtime's slow path.
        loop.schedule(afterNanos: tick) {
            guard !self.released else { return }
            self.housekeeping()
            self.scheduleHousekeeping()
        }
    }

    private func housekeeping() {
        let now = loop.nowNanos
        for c in connections { c.housekeeping(now: now) }
    }

    // MARK: shutdown

    func beginShutdown(done: @escaping () -> Void) {
        shuttingDown = true
        shutdownDone = done
        stopListening()
        for c in connections { c.shutdown() }
        if connections.isEmpty { finishShutdown() }
    }

    private func finishShutdown() {
        shutdownDone?()
        shutdownDone = nil
    }

    private var released = false

    /// After the loop has stopped: close what is still open and free the buffers.
    func release() {
        guard !released else { return }
        released = true
        listener = nil      // the loop has stopped: nothing to remove; the Server closes the socket
        for c in connections { c.drop() }
        connections = []
        sseSubscribers = SubscriberList()
        webSocketSubscribers = SubscriberList()
        longPollWaiters = SubscriberList()
        http2Sessions = SubscriberList()
        readBuffer.deallocate()
        readBuffer = UnsafeMutableRawBufferPointer(start: nil, count: 0)
        context.control = { _, _ in }
        context.loop = nil
        server = nil
    }

    /// How often the listener backed off for want of descriptors (PROTOCOL.md §9).
    var acceptBackoffs: Int { listener?.backoffCount ?? 0 }
}

/// The server's listening socket, as one loop watches it. Every loop watches the same socket
/// with `.exclusive`, so a new connection wakes one loop that is waiting, not all of them
/// (Server.swift says why one shared socket). The loop that wakes accepts until EAGAIN.
/// Out of descriptors (PROTOCOL.md §9), it stops watching the socket for `acceptBackoff`
/// seconds instead of spinning on a backlog it cannot take; open connections are not disturbed.
/// The Server owns the socket and closes it.
final class Listener: FDHandler {
    let fd: Int32
    let worker: Worker   // strong: an unowned reference costs a slow refcount path on every access
    private(set) var backoffCount = 0

    /// Whether this loop's selector has the socket. An exclusive registration cannot be
    /// modified, only removed and added again, so a pause is a removal.
    private enum Watch { case watching, backingOff, stopped }
    private var watch = Watch.stopped

    init(fd: Int32, worker: Worker) { self.fd = fd; self.worker = worker }

    func start() {
        guard watch != .watching else { return }
        worker.loop.add(fd: fd, handler: self, interest: [.read, .exclusive])
        watch = .watching
    }

    func stop() {
        if watch == .watching { worker.loop.remove(fd: fd) }
        watch = .stopped
    }

    func handleReadable() {
        while watch == .watching {
            switch Socket.acceptNext(fd) {
            case .accepted(let cfd, let loopback):
                worker.accepted(fd: cfd, isLoopback: loopback)
            case .none:
                return
            case .outOfResources:
                backoffCount += 1
                worker.loop.remove(fd: fd)
                watch = .backingOff
                worker.loop.schedule(afterNanos: LoopClock.nanos(seconds: worker.config.acceptBackoff)) { [weak self] in
                    guard let self = self, self.watch == .backingOff else { return }   // stopped meanwhile
                    self.start()
                }
                return
            }
        }
    }
    func handleWritable() {}
    func handleHangup() {}
}

/// A set of connections with O(1) insert and remove (each connection remembers its slot).
struct SubscriberList {
    private(set) var members: [Connection] = []
    var isEmpty: Bool { members.isEmpty }
    mutating func add(_ c: Connection) {
        guard c.subscriberSlot < 0 else { return }
        c.subscriberSlot = members.count
        members.append(c)
    }
    mutating func remove(_ c: Connection) {
        let i = c.subscriberSlot
        guard i >= 0, i < members.count, members[i] === c else { return }
        let last = members.removeLast()
        if i < members.count { members[i] = last; last.subscriberSlot = i }
        c.subscriberSlot = -1
    }
}

/// IMF-fixdate (RFC 9110 §5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT".
enum HTTPDate {
    static func format(epochSeconds: Int) -> String {
        let days = epochSeconds / 86_400
        let secs = epochSeconds % 86_400
        let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][days % 7]
        // Civil-from-days (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(weekday), \(two(day)) \(months[month - 1]) \(year) \(two(secs / 3600)):\(two(secs / 60 % 60)):\(two(secs % 60)) GMT"
    }
}
