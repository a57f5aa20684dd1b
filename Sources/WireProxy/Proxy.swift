// The proxy: one ProxyWorker per loop thread, each with its own listener on the same port
// (SO_REUSEPORT, as the server does) and every relay it accepts for that relay's whole life.
// Counters are per worker, summed at shutdown; the cutter runs on each loop on one shared grid.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import WireLoop

/// One loop's share of the proxy. Loop thread only, except `init`.
final class ProxyWorker {
    let index: Int
    let loop: EventLoop
    let config: ProxyConfig
    var counters = ProxyCounters()
    let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    private var relays: [ObjectIdentifier: Relay] = [:]
    private var listener: ProxyListener?
    private var rng: SplitMix64
    private var cutTimer: LoopTimer?

    init(index: Int, loop: EventLoop, config: ProxyConfig, seed: UInt64) {
        self.index = index
        self.loop = loop
        self.config = config
        rng = SplitMix64(state: seed)
    }

    deinit { readBuffer.deallocate() }

    func nextSeed() -> UInt64 { rng.next() }

    func startListening(fd: Int32, cuts: CutSchedule?) {
        let l = ProxyListener(fd: fd, worker: self)
        listener = l
        loop.add(fd: fd, handler: l, interest: .read)
        if let cuts { scheduleCut(cuts) }
    }

    func accepted(fd: Int32) {
        let now = LoopClock.monotonicNanos()
        counters.connections += 1
        let relay = Relay(worker: self, fd: fd, now: now)
        relays[ObjectIdentifier(relay)] = relay
        relay.start(now: now)
    }

    func forget(_ relay: Relay) { relays[ObjectIdentifier(relay)] = nil }

    /// --cut-every: every relay of this loop that was open at the cut's instant closes at once.
    private func scheduleCut(_ cuts: CutSchedule) {
        let due = cuts.nextCut(after: LoopClock.monotonicNanos())
        cutTimer = loop.schedule(atNanos: due) { [self] in
            counters.fired.cutRounds += 1
            for relay in Array(relays.values) where CutSchedule.cuts(acceptedAt: relay.acceptedAt, cutAt: due) {
                counters.fired.cut += 1
                relay.close()
            }
            scheduleCut(cuts)
        }
    }

    /// Stops accepting, closes every relay, returns this loop's counters.
    func shutdown() -> ProxyCounters {
        cutTimer?.cancel()
        if let l = listener {
            loop.remove(fd: l.fd)
            Socket.closeFD(l.fd)
            listener = nil
        }
        for relay in Array(relays.values) { relay.close() }
        return counters
    }
}

/// Accepts clients. Out of file descriptors (EMFILE), it stops for 100 ms and tries again: it
/// never spins, and the relays already open are not disturbed (the server does the same).
final class ProxyListener: FDHandler {
    let fd: Int32
    unowned let worker: ProxyWorker
    init(fd: Int32, worker: ProxyWorker) { self.fd = fd; self.worker = worker }

    func handleReadable() {
        for _ in 0..<64 {
            guard let (client, _) = Socket.accept(fd) else {
                if errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM {
                    worker.loop.setInterest(fd: fd, [])
                    worker.loop.schedule(afterNanos: 100_000_000) { [self] in worker.loop.setInterest(fd: fd, .read) }
                }
                return
            }
            worker.accepted(fd: client)
        }
    }
    func handleWritable() {}
    func handleHangup() {}
}

public final class Proxy {
    public let config: ProxyConfig
    public private(set) var port = 0
    /// The open-file limit after raising it; 10,000 relays need 20,000 sockets.
    public private(set) var openFileLimit = 0
    private var workers: [ProxyWorker] = []
    private var stopped = false

    public init(config: ProxyConfig) {
        self.config = config
        var loops = config.loops > 0 ? config.loops : Proxy.defaultLoops(cores: Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        #if !os(Linux)
        loops = 1   // SO_REUSEPORT does not balance connections outside Linux.
        #endif
        var seeder = SystemRandomNumberGenerator()
        for i in 0..<loops {
            workers.append(ProxyWorker(index: i, loop: EventLoop(index: i), config: config, seed: seeder.next()))
        }
    }

    /// Loop threads without `--loops`: half the cores, at least one (PROTOCOL.md §7). A lab proxy
    /// shares its machine with the server (one loop per core) and the clients. A relayed message
    /// costs about one recv and one send of kernel time, the same whatever the thread count, so
    /// more loops buy no throughput once the cores are shared; they only add threads to schedule,
    /// and each loop wakes for fewer messages per epoll_wait. On 2 cores, 5,000 WebSocket
    /// clients at 10 events/s got their events sooner through 1 loop than through 2 in every
    /// alternating round (`proxy_bench.py --variant 'loops 1=--loops 1'`).
    public static func defaultLoops(cores: Int) -> Int { max(1, cores / 2) }

    /// Sockets the proxy needs for `connections` relays, plus listeners and loop fds.
    public static func filesNeeded(connections: Int) -> Int { 2 * connections + 64 }

    public func start() throws {
        openFileLimit = Socket.raiseOpenFileLimit()
        signal(SIGPIPE, SIG_IGN)
        let group = try Socket.listenGroup(host: config.host, port: config.port, count: workers.count)
        port = group.port
        let fds = group.fds
        let now = LoopClock.monotonicNanos()
        let cuts = config.cutEverySeconds.map { CutSchedule(start: now, periodNanos: LoopClock.nanos(seconds: $0)) }
        for (w, fd) in zip(workers, fds) {
            w.loop.execute { w.startListening(fd: fd, cuts: cuts) }
            w.loop.start(name: "wirelab-proxy-\(w.index)")
        }
    }

    /// The URL line's host part: IPv6 literals in brackets.
    public var displayHost: String { config.host.contains(":") ? "[\(config.host)]" : config.host }

    /// The first stdout line (PROTOCOL.md §7); `race --via` reads it.
    public var listeningLine: String {
        "wirelab proxy listening on http://\(displayHost):\(port) -> \(config.upstreamURL)"
    }

    /// Closes every connection, stops the loops, returns the counters of the whole run.
    public func shutdown() -> ProxyCounters {
        guard !stopped else { return ProxyCounters() }
        stopped = true
        let lock = Lock()
        var total = ProxyCounters()
        let done = DispatchSemaphore(value: 0)
        for w in workers {
            w.loop.execute {
                let c = w.shutdown()
                lock.withLock { total = total + c }
                done.signal()
            }
        }
        for _ in workers { _ = done.wait(timeout: .now() + 2) }
        for w in workers { w.loop.stop() }
        return lock.withLock { total }
    }
}
