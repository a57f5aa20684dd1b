// The server: one Feed, one Stats, and one Worker per loop thread.
//
// The loops share one listening socket, and each watches it with EPOLLEXCLUSIVE: a new
// connection wakes one loop that is waiting in epoll_wait, not all of them. A busy loop is not
// waiting, so new connections go to an idle one; when every loop is idle, the kernel wakes the
// first on the socket's wait list (loop 0, which registers first), so a light load gathers on
// loop 0, the loop the generator publishes from. This is nginx's model (one socket for all
// workers, EPOLLEXCLUSIVE). On two cores with the load generator on the same machine, one loop
// answering wrk's 50 keep-alive connections does more than two loops sharing the second core;
// a burst such as 10,000 WebSockets connecting keeps both loops busy, so it spreads over both.
// (The other model, a SO_REUSEPORT listener per loop, hashes connections evenly over the loops
// whatever they are doing; WireProxy uses it. `make bench` prints how each server's work split.)
// A worker owns every connection it accepts, for that connection's whole life.
// A published event reaches each worker through its loop's queue; the worker then writes the
// event's pre-framed bytes to its own subscribers. No connection is ever touched by two threads.
import WireLoop
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public final class Server {
    public let config: ServerConfig
    public let feed: Feed
    public let stats: Stats
    public let controlToken: String
    public private(set) var port = 0
    public private(set) var workers: [Worker] = []
    /// The one listening socket every loop watches (-1 before `start` and after `shutdown`).
    private var listenFD: Int32 = -1
    private var generator: TickGenerator?
    private let stopLock = Lock()
    private var stopped = false
    /// Output queued by all connections together (PROTOCOL.md §9 `--max-buffered`).
    let buffered: BufferedTotal

    public init(config: ServerConfig) {
        self.config = config
        feed = Feed(history: config.history, rate: config.rate, size: config.size, wallClock: config.wallClock)
        var loops = config.loops > 0 ? config.loops : Server.coreCount()
        #if !os(Linux)
        loops = 1   // Without EPOLLEXCLUSIVE, every loop would wake for every new connection.
        #endif
        if config.selector == .poll { loops = min(loops, 2) }
        stats = Stats(shardCount: loops, maxClients: config.maxClients)
        buffered = BufferedTotal(limit: config.maxBuffered)
        controlToken = config.controlToken ?? Server.randomToken()
        for i in 0..<loops {
            workers.append(Worker(index: i, server: self, loop: EventLoop(index: i, selector: config.selector, clock: config.clock),
                                  stats: stats.shards[i]))
        }
        // Under the feed's lock: queue the event on every loop (in id order), no system call.
        feed.onPublish = { [weak self] event in
            guard let self = self else { return }
            for w in self.workers { w.loop.enqueue { w.broadcast(event) } }
        }
        // After the lock is released: wake the loops (a write to each loop's eventfd). Not the
        // loop that published (the generator's, loop 0): it runs its queue right after its
        // timers, so waking it would only cost an eventfd write, a read and an empty turn.
        feed.afterPublish = { [weak self] in
            guard let self = self else { return }
            for w in self.workers where !w.loop.isOnLoopThread { w.loop.wakeUp() }
        }
        buffered.onCrossing = { [weak self] over in
            guard let self = self else { return }
            for w in self.workers { w.loop.execute { w.overBuffered = over } }
        }
    }

    static func coreCount() -> Int {
        max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }

    static func randomToken() -> String {
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<32).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
    }

    /// Binds every worker's listener and starts the loop threads and the generator.
    /// Throws if the address cannot be bound.
    public func start() throws {
        Socket.raiseOpenFileLimit()
        signal(SIGPIPE, SIG_IGN)
        // One socket, without SO_REUSEPORT: a port another program listens on fails here
        // with EADDRINUSE, and no other program can join ours.
        let fd = try Socket.listen(host: config.host, port: config.port, reusePort: false)
        listenFD = fd
        port = Socket.localPort(fd)
        // One loop after the other, loop 0 first: the socket's wait list keeps that order, so
        // when every loop is idle a new connection goes to loop 0, where the generator runs,
        // and its subscribers get each event without a hop to another thread.
        for w in workers {
            let watching = DispatchGroupLite(count: 1)
            w.startListening(fd: fd, port: port) { watching.leave() }
            w.loop.start(name: "wirelab-loop-\(w.index)")
            watching.wait(seconds: 5)
        }
        let gen = TickGenerator(feed: feed, loop: workers[0].loop)
        generator = gen
        workers[0].loop.execute { gen.start() }
    }

    /// The URL line's host part: IPv6 literals in brackets.
    public var displayHost: String {
        config.host.contains(":") ? "[\(config.host)]" : config.host
    }

    /// Graceful stop (PROTOCOL.md §4): WebSockets get close 1001, streams end, then loops stop.
    /// Blocks until the loops have flushed what they could (at most `grace` seconds).
    public func shutdown(grace: Double = 1.0) {
        let already = stopLock.withLock { () -> Bool in let s = stopped; stopped = true; return s }
        if already { return }
        // First every loop stops watching the listening socket, then it is closed, so
        // connections arriving from now on are refused (closed while a loop still watched it,
        // its number could be reused and that loop would later remove someone else's fd).
        if listenFD >= 0 {
            let unwatched = DispatchGroupLite(count: workers.count)
            for w in workers { w.loop.execute { w.stopListening(); unwatched.leave() } }
            unwatched.wait(seconds: grace)
            Socket.closeFD(listenFD)
            listenFD = -1
        }
        let done = DispatchGroupLite(count: workers.count)
        for w in workers {
            w.loop.execute { w.beginShutdown { done.leave() } }
        }
        done.wait(seconds: grace)
        for w in workers { w.loop.stop() }
        // Resources released: once a loop's thread has left its run loop, close what is still
        // open, free the buffers and the selector (epoll fd, wake fd).
        for w in workers {
            if w.loop.waitUntilStopped(seconds: 5) {
                w.release()
                w.loop.close()
            }
        }
        generator = nil
    }

    /// `/stats`: asks every loop for its counters (each snapshots its own shard on its own
    /// thread), then calls `done` on `replyOn`'s loop with the sum. No lock is held while a
    /// loop counts; the only lock guards the small collector below.
    func gatherTotals(replyOn worker: Worker, _ done: @escaping (StatsTotals, Double) -> Void) {
        let collector = TotalsCollector(expected: workers.count)
        let uptime = stats.uptime
        for w in workers {
            w.loop.execute {
                if let all = collector.add(w.stats.snapshot()) {
                    worker.loop.execute { done(all, uptime) }
                }
            }
        }
    }

    /// Drops every SSE or WebSocket stream, parked long poll, or idle short-poll keep-alive
    /// connection, as a flaky network would (lesson 3 shows the resume; race's reconnect tests
    /// drop every transport).
    public func dropStreams(of transport: Transport) {
        for w in workers { w.loop.execute { w.dropStreams(of: transport) } }
    }

    /// Applies POST /control: new rate and/or size.
    public func control(rate: Double?, size: Int?) {
        feed.setGenerator(rate: rate, size: size)
        if rate != nil, let gen = generator {
            workers[0].loop.execute { gen.restart() }
        }
    }
}

/// A countdown latch with a timeout, on a condition variable (no Dispatch needed). The mutex
/// and condition live on the heap: `&storedProperty` handed to pthread is a temporary copy's
/// address in Swift, not a stable one.
final class DispatchGroupLite {
    private var count: Int
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    init(count: Int) {
        self.count = count
        pthread_mutex_init(mutex, nil); pthread_cond_init(cond, nil)
    }
    deinit {
        pthread_cond_destroy(cond); pthread_mutex_destroy(mutex)
        cond.deallocate(); mutex.deallocate()
    }
    func leave() {
        pthread_mutex_lock(mutex); count -= 1; pthread_cond_broadcast(cond); pthread_mutex_unlock(mutex)
    }
    func wait(seconds: Double) {
        var deadline = timespec()
        clock_gettime(CLOCK_REALTIME, &deadline)
        let ns = Int(deadline.tv_nsec) + Int(seconds * 1e9)
        deadline.tv_sec += ns / 1_000_000_000
        deadline.tv_nsec = ns % 1_000_000_000
        pthread_mutex_lock(mutex)
        while count > 0 {
            if pthread_cond_timedwait(cond, mutex, &deadline) != 0 { break }
        }
        pthread_mutex_unlock(mutex)
    }
}

/// Collects one snapshot per loop; the last one in gets the sum.
final class TotalsCollector {
    private let lock = Lock()
    private var remaining: Int
    private var totals = StatsTotals()
    init(expected: Int) { remaining = expected }
    func add(_ shard: StatsTotals) -> StatsTotals? {
        lock.withLock {
            totals.merge(shard)
            remaining -= 1
            return remaining == 0 ? totals : nil
        }
    }
}

/// Output queued by every connection of the server (PROTOCOL.md §9 `--max-buffered`).
/// Changed only when a connection queues or drains (the slow path: the socket did not take
/// everything at once); the loops learn of a crossing through their queues, so a request only
/// reads a flag of its own loop.
final class BufferedTotal {
    let limit: Int
    private let lock = Lock()
    private var value = 0
    private var over = false
    var onCrossing: (Bool) -> Void = { _ in }
    init(limit: Int) { self.limit = limit }

    var total: Int { lock.withLock { value } }
    var isOver: Bool { lock.withLock { value > limit } }

    func add(_ delta: Int) {
        let crossed: Bool? = lock.withLock {
            value += delta
            let now = value > limit
            guard now != over else { return nil }
            over = now
            return now
        }
        if let c = crossed { onCrossing(c) }
    }
}

/// Publishes `tick` events at the feed's rate, on loop 0's timers. Ticks are scheduled on an
/// absolute grid (start + k/rate) so the rate does not drift with timer lateness.
final class TickGenerator {
    let feed: Feed
    let loop: EventLoop
    private var timer: LoopTimer?
    private var gridStart: Int64 = 0
    private var count: Int64 = 0
    private var interval: Int64 = 0

    init(feed: Feed, loop: EventLoop) { self.feed = feed; self.loop = loop }

    func start() {
        let rate = feed.rate
        guard rate > 0 else { return }
        interval = max(1_000, Int64(1e9 / rate))
        // The grid starts at a random phase: a client that starts a timer when the server starts
        // (a race, a lesson) would otherwise poll in lockstep with the ticks and see short polling
        // deliver in 10 ms instead of the half interval it costs on average.
        gridStart = loop.nowNanos + Int64.random(in: 0..<interval) - interval
        count = 0
        scheduleNext()
    }

    func restart() {
        timer?.cancel(); timer = nil
        start()
    }

    private func scheduleNext() {
        count += 1
        var deadline = gridStart + count * interval
        let now = loop.nowNanos
        if deadline < now - 1_000_000_000 {
            // Far behind (the machine stalled): skip ahead rather than burst.
            gridStart = now; count = 1; deadline = now + interval
        }
        timer = loop.schedule(atNanos: deadline) { [weak self] in
            guard let self = self else { return }
            self.feed.publish(topic: .tick, data: Feed.tickData(size: self.feed.size))
            self.scheduleNext()
        }
    }
}
