// A Worker is the server's state on one loop thread: its listener, its connections, its
// subscribers, its stats shard. Everything here runs on that loop's thread.
import WireLoop
import WireCodec

public final class Worker {
    public let index: Int
    let server: Server
    public let loop: EventLoop
    let stats: StatsShard
    /// Copies of the server's, stored here so the hot path reads them without a detour.
    let config: ServerConfig
    let feed: Feed
    private var listener: Listener?

    /// Every open connection, for the housekeeping sweep (timeouts, heartbeats).
    private(set) var connections: [Connection] = []
    /// Push subscribers, for broadcast. Swap-remove keeps removal O(1).
    var sseSubscribers = SubscriberList()
    var webSocketSubscribers = SubscriberList()
    var longPollWaiters = SubscriberList()

    /// One read buffer for the whole loop: a connection's bytes are handed to its parser at once.
    let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    private var shuttingDown = false
    private var shutdownDone: (() -> Void)?

    init(index: Int, server: Server, loop: EventLoop, stats: StatsShard) {
        self.index = index
        self.server = server
        self.loop = loop
        self.stats = stats
        self.config = server.config
        self.feed = server.feed
    }


    func startListening(fd: Int32) {
        let l = Listener(fd: fd, worker: self)
        listener = l
        loop.execute { [self] in
            loop.add(fd: fd, handler: l)
            scheduleHousekeeping()
        }
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
        sseSubscribers.remove(c)
        webSocketSubscribers.remove(c)
        longPollWaiters.remove(c)
        if shuttingDown && connections.isEmpty { finishShutdown() }
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
        stats.batch {
            let ws = webSocketSubscribers.members, sse = sseSubscribers.members
            fanOutTurn &+= 1
            Self.fanOutOrder(webSockets: ws.count, streams: sse.count, turn: fanOutTurn) { isWebSocket, i in
                if isWebSocket { ws[i].deliverToWebSocket(event) } else { sse[i].deliverToSSE(event) }
            }
        }
        if !longPollWaiters.isEmpty {
            // Waiters that asked for the same `since` and `limit` get the same body: build it once.
            var bodies: [Int: PollBody] = [:]
            for c in longPollWaiters.members {
                guard let key = c.longPollKey else { continue }
                let body = bodies[key] ?? c.makeLongPollBody()
                bodies[key] = body
                // limit=0 asks only to hear *that* something happened: answer it too.
                if body.eventCount > 0 || c.longPoll?.limit == 0 { c.answerLongPoll(body) }
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
        case .sse: for c in sseSubscribers.members { c.close() }
        case .ws: for c in webSocketSubscribers.members { c.close() }
        case .longpoll: for c in longPollWaiters.members { c.close() }
        case .poll:
            // Keep-alive connections that have carried a short poll and have no request in
            // progress (an unread request would turn the close into a reset).
            let bit = UInt8(1) << UInt8(Transport.poll.rawValue)
            for c in connections where c.countedTransports & bit != 0 && c.isIdleBetweenRequests { c.close() }
        }
    }

    // MARK: housekeeping: timeouts and heartbeats

    private func scheduleHousekeeping() {
        let tick = min(LoopClock.nanos(seconds: 0.25), max(LoopClock.nanos(seconds: 0.01), LoopClock.nanos(seconds: config.heartbeat / 4)))
        // A strong capture on purpose: a worker lives as long as its loop, and a weak reference
        // would give it a side table, sending every retain and release of it (several per
        // request) down the runtime's slow path.
        loop.schedule(afterNanos: tick) {
            self.housekeeping()
            self.scheduleHousekeeping()
        }
    }

    private func housekeeping() {
        let now = LoopClock.monotonicNanos()
        let heartbeat = LoopClock.nanos(seconds: config.heartbeat)
        for c in connections { c.housekeeping(now: now, heartbeat: heartbeat) }
    }

    // MARK: shutdown

    func beginShutdown(done: @escaping () -> Void) {
        shuttingDown = true
        shutdownDone = done
        if let l = listener { loop.remove(fd: l.fd); Socket.closeFD(l.fd); listener = nil }
        for c in connections { c.shutdown() }
        if connections.isEmpty { finishShutdown() }
    }

    private func finishShutdown() {
        shutdownDone?()
        shutdownDone = nil
    }

    // MARK: Date header (RFC 9110 §6.6.1), formatted once per second

    private var cachedDateSecond = -1
    private var cachedDate: [UInt8] = []
    var dateHeaderLine: [UInt8] {
        let now = Int(LoopClock.wallMicros() / 1_000_000)
        if now != cachedDateSecond {
            cachedDateSecond = now
            cachedDate = Array("Date: \(HTTPDate.format(epochSeconds: now))\r\n".utf8)
        }
        return cachedDate
    }
}

/// The listening socket: accepts until EAGAIN on every readable event.
final class Listener: FDHandler {
    let fd: Int32
    let worker: Worker   // strong: an unowned reference costs a slow refcount path on every access
    init(fd: Int32, worker: Worker) { self.fd = fd; self.worker = worker }
    func handleReadable() {
        while let (cfd, loopback) = Socket.accept(fd) {
            worker.accepted(fd: cfd, isLoopback: loopback)
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
