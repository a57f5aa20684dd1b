// Race: the transports side by side against one event stream (PROTOCOL.md §4, §5).
//
// Theory of operation
// -------------------
//  1. Server: `--url`'s, or our own (in this process; a child `wirelab serve` when the clients
//     need more open files than one process may hold).
//  2. Clock: same host needs no correction; otherwise the offset is estimated from GET /time.
//  3. Setup: every client connects (streams also subscribe: SSE's 200 head, WebSocket's 101),
//     at most `maxConcurrentConnects` at a time. The time this takes is `connect_ms`.
//  4. Start: on the loop thread, GET /stats gives the latest id L; the run's events are L+1 on.
//     Pollers start asking (since=L). The loop is blocked during that request, so no event
//     after L can have been handled before the range was set.
//  5. `duration` seconds later: pause our own server's generator (so nothing is in flight while
//     clients close), read the last id, and tell every client the run is over. Pollers make
//     one last request; every client stops once it has the last id (or after `grace` s);
//     WebSockets do the closing handshake.
//  6. Count: each client's bytes and TCP_INFO segments were taken as it closed. A moment later
//     the server's /stats is compared with our counts for the race-<transport>-<k> clients.
//
// With `--via FLAGS` (PROTOCOL.md §8) a child `wirelab proxy` stands between the clients and
// the server (ChildProxy); the control channel still talks to the server directly. Every
// client's counts are then what crossed its own sockets, i.e. the proxy's downstream side. They
// equal the server's /stats only if the proxy forwarded every byte unchanged and lost none:
// true for delay, jitter, bandwidth and stalls, false by design for --strip-upgrade (it rewrites
// the request head) and for the impairments that close connections with bytes in flight
// (--cut-every, --kill-ws-after, --idle-timeout, and --buffer, which may still hold a stream's
// last bytes when the client leaves). ServerCheck says which case applies (see `ProxyBytes`).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import WireLoop
import WireServer

public struct RaceError: Error, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

public final class Race {
    public let settings: RaceSettings

    public init(settings: RaceSettings) {
        self.settings = settings
    }

    /// Runs the race; blocks for about `duration` seconds plus setup. `progress` is called on
    /// this thread about four times a second.
    public func run(progress: ((RaceProgress) -> Void)? = nil) throws -> RaceResult {
        try settings.validate()
        signal(SIGPIPE, SIG_IGN)
        let limit = Socket.raiseOpenFileLimit()
        let totalClients = settings.clients * settings.transports.count

        // 1. The server.
        let handle: ServerHandle
        let endpoint: RaceEndpoint
        if let url = settings.url {
            endpoint = try RaceEndpoint(url: url)
            handle = .external
            if totalClients + 64 > limit {
                throw RaceError("\(settings.clients) clients × \(settings.transports.count) transports = \(totalClients) connections need more open files than one process may hold (\(limit)); use fewer clients or transports")
            }
        } else {
            let needChild = totalClients > settings.childServerThreshold || 2 * totalClients + 256 > limit
            if needChild {
                guard let exe = settings.serverExecutable else {
                    throw RaceError("\(totalClients) clients need the server in a separate process; run it with wirelab serve and pass --url")
                }
                if totalClients + 64 > limit {
                    throw RaceError("\(settings.clients) clients × \(settings.transports.count) transports = \(totalClients) connections need more open files than one process may hold (\(limit)); use fewer clients or transports")
                }
                let child = try ChildServer(executable: exe, rate: settings.rate, size: settings.size)
                handle = .child(child)
                endpoint = RaceEndpoint(host: "127.0.0.1", port: child.port)
            } else {
                var config = ServerConfig()
                config.host = "127.0.0.1"
                config.port = 0
                config.rate = settings.rate
                config.size = settings.size
                let server = Server(config: config)
                do { try server.start() } catch { throw RaceError("cannot start the server: \(error)") }
                handle = .inProcess(server)
                endpoint = RaceEndpoint(host: "127.0.0.1", port: server.port)
            }
        }
        defer { handle.stop() }

        // 1b. The proxy the clients go through, if any.
        var proxy: ChildProxy?
        var clientEndpoint = endpoint
        if let via = settings.via {
            guard let exe = settings.serverExecutable ?? Self.runningWirelab() else {
                throw RaceError("--via needs the wirelab executable to start `wirelab proxy`")
            }
            let p = try ChildProxy(executable: exe, upstream: endpoint, flags: via)
            proxy = p
            clientEndpoint = p.endpoint
        }
        defer { proxy?.stop() }
        if let url = settings.clientURL { clientEndpoint = try RaceEndpoint(url: url) }
        var control = ControlChannel(endpoint: endpoint)
        control.timeoutSeconds = 30     // a server busy with 10,000 closes can be slow to answer

        // 2. The clock.
        var clock = "clock: same host, no correction"
        var offset: Int64 = 0
        var clockEstimate: ClockEstimate?
        do {
            _ = try control.latestID()          // also: can we talk to it at all?
            if !endpoint.isSameHost || settings.clock == .estimate {
                let estimate = try ClockEstimate.measure(control)
                offset = estimate.offsetMicros
                clock = estimate.description
                clockEstimate = estimate
            }
        } catch let e as ControlError {
            throw RaceError(e.message)
        }

        // The server's counters for our names before we start (a --url server may have seen an
        // earlier race): the comparison at the end is about this run's difference.
        let baseline = Self.serverCounters(control) ?? [:]

        // A quiet setup: no event is published while the clients connect (RaceSettings).
        func setGenerator(rate: Double, _ what: String) throws {
            let answer: ControlChannel.Answer
            do { answer = try control.post("/control", json: "{\"rate\":\(rate)}") } catch let e as ControlError {
                throw RaceError("cannot \(what): \(e.message)")
            }
            guard answer.status == 200 else { throw RaceError("cannot \(what): POST /control answered \(answer.status)") }
        }
        var generatorHeld = settings.quietWhileConnecting ?? handle.isOwn
        if generatorHeld { try setGenerator(rate: 0, "hold the generator while connecting") }

        // 3. Clients on a loop of their own.
        let loop = EventLoop(index: 0)
        let context = RaceContext(loop: loop, endpoint: clientEndpoint)
        context.clockOffsetMicros = offset
        context.reconnect = settings.reconnect
        context.fallbackAfterNanos = Int64(settings.fallbackAfter * 1e6)
        context.headers = settings.headers
        var clients: [RaceClient] = []
        var carriers: [HTTP2Carrier] = []
        if settings.http == .http2 {
            // One h2c connection per client, or (--share) per k: client k of every transport.
            for k in 1...settings.clients {
                var shared: HTTP2Carrier?
                for t in settings.transports {
                    let carrier = shared ?? HTTP2Carrier(context: context)
                    if shared == nil { carriers.append(carrier) }
                    if settings.share { shared = carrier }
                    clients.append(HTTP2RaceClient(name: "race-\(t.rawValue)-\(k)", transport: t, carrier: carrier,
                                                   interval: settings.pollInterval, runDuration: settings.duration))
                }
            }
        }
        for t in settings.transports where settings.http == .http1_1 {
            for k in 1...settings.clients {
                let name = "race-\(t.rawValue)-\(k)"
                switch t {
                case .poll: clients.append(ShortPollClient(name: name, context: context, interval: settings.pollInterval, runDuration: settings.duration))
                case .longpoll: clients.append(LongPollClient(name: name, context: context))
                case .sse: clients.append(SSEClient(name: name, context: context))
                case .ws: clients.append(WebSocketClient(name: name, context: context))
                case .auto: clients.append(AutoClient(name: name, context: context, interval: settings.pollInterval, runDuration: settings.duration))
                }
            }
        }
        let state = LoopState(clients: clients, maxConnecting: settings.maxConcurrentConnects)
        context.clientReady = { [unowned state] _ in state.readyOne() }
        context.clientDone = { [unowned state] _ in state.doneCount += 1 }
        loop.start(name: "wirelab-race")
        defer { loop.stop() }

        func onLoop<T>(_ work: @escaping () -> T) -> T {
            let box = ResultBox<T>()
            loop.execute { box.put(work()) }
            return box.take()
        }

        loop.execute { state.startConnecting() }
        let setupTimeout = settings.setupTimeout + Double(clients.count) / 500
        let setupDeadline = LoopClock.monotonicNanos() + LoopClock.nanos(seconds: setupTimeout)
        var lastReady = 0, lastProgress = LoopClock.monotonicNanos()
        while true {
            let (ready, failure) = onLoop { (state.readyCount, state.firstFailure) }
            if let failure, ready == clients.count, !settings.keepGoingAfterFailures {
                throw RaceError(failure)
            }
            progress?(RaceProgress(phase: .connecting, elapsed: 0, total: settings.duration,
                                   connected: ready, clients: clients.count, events: 0))
            if ready == clients.count { break }
            let now = LoopClock.monotonicNanos()
            if ready != lastReady { lastReady = ready; lastProgress = now }
            if generatorHeld, now - lastProgress > LoopClock.nanos(seconds: 1) {
                // No client became ready for a second: one may be waiting for traffic to see
                // its answer's head at all (a buffering middlebox, lesson 10's nginx). Let the
                // generator run, as it would for a real stream.
                try setGenerator(rate: settings.rate, "start the generator")
                generatorHeld = false
            }
            if now > setupDeadline {
                // Every wait has a timeout: a client still without its answer fails, the race
                // goes on (or stops, below) with the ones that are ready.
                onLoop {
                    state.next = clients.count      // a failure counts as ready: start no more connects
                    for c in clients where !c.isReady {
                        c.fail("no answer within \(String(format: "%.1f", setupTimeout)) s of the start (a middlebox holding the head back?)")
                    }
                }
                continue
            }
            usleep(ready == 0 ? 5_000 : 20_000)
        }
        if !settings.keepGoingAfterFailures, let failure = onLoop({ state.firstFailure }) { throw RaceError(failure) }

        // 4. Start.
        var startWall: Int64 = 0
        let start: Result<(Int, Int64), ControlError> = onLoop {
            do {
                let latest = try control.latestID()
                startWall = LoopClock.wallMicros()
                context.firstID = latest + 1
                let now = loop.nowNanos         // the clients' timers run on the loop's clock
                context.runStartNanos = now
                for c in clients { c.startRun(at: now) }
                return .success((latest + 1, now))
            } catch let e as ControlError { return .failure(e) } catch { return .failure(ControlError(message: "\(error)")) }
        }
        let (firstID, startNanos): (Int, Int64)
        switch start {
        case .success(let v): (firstID, startNanos) = v
        case .failure(let e): throw RaceError(e.message)
        }
        if generatorHeld {
            // The clients count from firstID on: the generator may run now.
            try setGenerator(rate: settings.rate, "start the generator")
        }
        let endNanos = startNanos + LoopClock.nanos(seconds: settings.duration)
        while true {
            let now = LoopClock.monotonicNanos()
            if now >= endNanos { break }
            if let progress {
                let events = onLoop { clients.reduce(0) { $0 + $1.receipts.distinct(through: Int.max - 1) } }
                progress(RaceProgress(phase: .running, elapsed: Double(now - startNanos) / 1e9, total: settings.duration,
                                  connected: clients.count, clients: clients.count, events: events))
            }
            let left = endNanos - LoopClock.monotonicNanos()
            if left > 0 { usleep(useconds_t(min(left / 1000, 250_000))) }
        }

        // 5. End.
        let pause = settings.pauseGeneratorAtEnd ?? handle.isOwn
        if pause {
            try? setGenerator(rate: 0, "pause the generator")   // best effort: the counts show it anyway
            usleep(30_000)   // a tick already due on a loop thread lands before we read the last id
        }
        let lastID: Int
        do { lastID = try control.latestID() } catch let e as ControlError { throw RaceError(e.message) }
        let elapsed = Double(LoopClock.monotonicNanos() - startNanos) / 1e9
        let endWall = LoopClock.wallMicros()
        loop.execute {
            context.lastID = lastID
            for c in clients where !c.isDone { c.runEnded() }
        }
        let graceEnd = LoopClock.monotonicNanos() + LoopClock.nanos(seconds: settings.grace + Double(clients.count) / 5_000)
        while onLoop({ state.doneCount }) < clients.count && LoopClock.monotonicNanos() < graceEnd {
            if let progress {
                progress(RaceProgress(phase: .finishing, elapsed: settings.duration, total: settings.duration,
                                      connected: clients.count, clients: clients.count,
                                      events: onLoop { clients.reduce(0) { $0 + $1.receipts.distinct(through: lastID) } }))
            }
            usleep(10_000)
        }
        onLoop {
            context.lingerOver = true
            for c in clients where !c.isDone { c.finishedForGood() }
            for c in clients { c.abandonLinger() }
            for c in carriers { c.endLinger() }
        }

        // 6. Count.
        let settings = self.settings
        let results: [TransportResult] = onLoop {
            settings.transports.map { t in
                Self.summarize(t, clients.filter { $0.transport == t }, context: context, firstID: firstID, lastID: lastID)
            }
        }
        let http2: HTTP2Usage? = settings.http == .http1_1 ? nil : onLoop { Self.http2Usage(carriers) }
        loop.stop()
        proxy?.stop()       // it closes its upstream connections: the server's counts are final
        var check = Self.checkWithServer(control, results, baseline: baseline, http2: http2)
        if let via = settings.via, let c = check {
            check = ProxyBytes.judge(c, flags: via)
        }
        if let url = settings.clientURL, var c = check, !c.agrees {
            // A middlebox of the caller's (nginx in lesson 10) rewrites heads both ways.
            c.expected = false
            c.note = "counts are what crossed the clients' sockets to \(url); the server's differ because that middlebox rewrites heads"
            check = c
        }
        var result = RaceResult(settings: settings, server: handle.kind, clock: clock, firstID: firstID, lastID: lastID,
                                elapsed: elapsed, startedAtMicros: startWall, endedAtMicros: endWall,
                                results: results, serverCheck: check)
        result.proxyReport = proxy?.exitReport
        result.http2 = http2
        result.clockEstimate = clockEstimate
        return result
    }

    /// This process's executable when it is `wirelab` itself (a lesson running a race in
    /// process), so `--via` can start `wirelab proxy` without being told where it is.
    static func runningWirelab() -> String? {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return exe.lastPathComponent == "wirelab" ? exe.path : nil
    }

    static func summarize(_ t: RaceTransport, _ clients: [RaceClient], context: RaceContext, firstID: Int, lastID: Int) -> TransportResult {
        let published = max(0, lastID - firstID + 1)
        var totals = ClientCounts()
        var reports: [ClientReport] = []
        var events = 0, missed = 0, duplicates = 0, outOfOrder = 0, reconnects = 0
        var firstConnect = Int64.max, lastReady: Int64 = 0
        var firstEvent: [Double] = []
        var paths: [String: Int] = [:]
        for c in clients {
            let e = c.receipts.distinct(through: lastID)
            events += e
            missed += published - e
            duplicates += c.receipts.duplicates
            outOfOrder += c.receipts.outOfOrder
            reconnects += c.ledger.reconnects
            totals = totals + c.counts
            firstConnect = min(firstConnect, c.connectStarted)
            lastReady = max(lastReady, c.readyAt)
            if let f = c.ledger.firstEventMillis { firstEvent.append(f) }
            paths[c.ledger.pathText, default: 0] += 1
            reports.append(ClientReport(name: c.name, counts: c.counts, events: e, missed: published - e,
                                        duplicates: c.receipts.duplicates, failure: c.failure,
                                        outOfOrder: c.receipts.outOfOrder, reconnects: c.ledger.reconnects,
                                        path: c.ledger.pathText, firstEventMillis: c.ledger.firstEventMillis,
                                        latencyMeanMs: c.ledger.latencyCount > 0 ? Double(c.ledger.latencySumMicros) / Double(c.ledger.latencyCount) / 1000 : nil))
        }
        let n = Double(max(1, clients.count))
        let book = context.histograms[t]
        firstEvent.sort()
        return TransportResult(transport: t, clients: clients.count, events: Double(events) / n, missed: Double(missed) / n,
                               duplicates: Double(duplicates) / n,
                               histogram: book?.histogram ?? LatencyHistogram(), totals: totals,
                               connectMillis: lastReady > firstConnect ? Double(lastReady - firstConnect) / 1e6 : 0,
                               perClient: reports,
                               outOfOrder: Double(outOfOrder) / n, reconnects: reconnects,
                               reconnectHistogram: book?.reconnect ?? LatencyHistogram(),
                               paths: paths,
                               firstEventMillis: firstEvent.isEmpty ? nil : firstEvent[(firstEvent.count - 1) / 2],
                               connectsPer100ms: book?.connects ?? [])
    }

    /// Where `serverCounters` keeps the top-level "http2" object (not a valid client name).
    static let http2Key = " http2"

    /// What the HTTP/2 connections moved, and a check that socket = streams + stream 0.
    static func http2Usage(_ carriers: [HTTP2Carrier]) -> HTTP2Usage {
        var h = HTTP2Usage()
        for c in carriers {
            h.connections += c.connections
            h.bytesUp += c.connectionBytes.sent
            h.bytesDown += c.connectionBytes.received
            h.socketBytesUp += c.socketUp
            h.socketBytesDown += c.socketDown
            h.unaccounted += c.unaccounted
        }
        return h
    }

    /// The server's per-client counters (bytes_in, bytes_out, requests, connections) by name.
    static func serverCounters(_ control: ControlChannel) -> [String: [Int]]? {
        guard let stats = try? control.stats(), let clients = stats["clients"] as? [String: Any] else { return nil }
        var out: [String: [Int]] = [:]
        if let h = stats["http2"] as? [String: Any] {
            out[http2Key] = ["bytes_in", "bytes_out", "connections"].map { (h[$0] as? NSNumber)?.intValue ?? 0 }
        }
        for (name, value) in clients where name.hasPrefix("race-") {
            guard let s = value as? [String: Any] else { continue }
            out[name] = ["bytes_in", "bytes_out", "requests", "connections"].map { (s[$0] as? NSNumber)?.intValue ?? 0 }
        }
        return out
    }

    /// Sums the server's per-client counters for our clients (minus what they were before the
    /// run) and compares. The server may still be handling the last closes: retry a few times
    /// before reporting a difference.
    static func checkWithServer(_ control: ControlChannel, _ results: [TransportResult], baseline: [String: [Int]],
                                http2: HTTP2Usage? = nil) -> ServerCheck? {
        var differences: [String] = []
        for attempt in 0..<6 {
            usleep(attempt == 0 ? 100_000 : 300_000)
            guard let now = serverCounters(control) else { return nil }
            differences = []
            if let h = http2 {
                if h.unaccounted != 0 { differences.append("http2: \(h.unaccounted) socket bytes in no stream and not in stream 0") }
                // The connections' own bytes against /stats "http2" (this run's difference).
                let after = now[Self.http2Key] ?? [0, 0, 0], before = baseline[Self.http2Key] ?? [0, 0, 0]
                if after[0] - before[0] != h.bytesUp { differences.append("http2: bytes_up \(h.bytesUp) here, bytes_in \(after[0] - before[0]) at the server") }
                if after[1] - before[1] != h.bytesDown { differences.append("http2: bytes_down \(h.bytesDown) here, bytes_out \(after[1] - before[1]) at the server") }
                if after[2] - before[2] != h.connections { differences.append("http2: connections \(h.connections) here, \(after[2] - before[2]) at the server") }
            }
            for r in results {
                var sum = [0, 0, 0, 0]
                for c in r.perClient {
                    let after = now[c.name] ?? [0, 0, 0, 0], before = baseline[c.name] ?? [0, 0, 0, 0]
                    for i in 0..<4 { sum[i] += after[i] - before[i] }
                }
                let t = r.transport.rawValue
                if sum[0] != r.bytesUp { differences.append("\(t): bytes_up \(r.bytesUp) here, bytes_in \(sum[0]) at the server") }
                if sum[1] != r.bytesDown { differences.append("\(t): bytes_down \(r.bytesDown) here, bytes_out \(sum[1]) at the server") }
                if sum[2] != r.requests { differences.append("\(t): requests \(r.requests) here, \(sum[2]) at the server") }
                if sum[3] != r.connections { differences.append("\(t): connections \(r.connections) here, \(sum[3]) at the server") }
            }
            if differences.isEmpty { return ServerCheck(agrees: true, differences: []) }
        }
        return ServerCheck(agrees: false, differences: differences)
    }
}

/// Loop-thread bookkeeping of the setup: start connects, at most `maxConnecting` at a time.
private final class LoopState {
    let clients: [RaceClient]
    let maxConnecting: Int
    var next = 0
    var readyCount = 0
    var doneCount = 0
    var firstFailure: String? { clients.lazy.compactMap { $0.failure }.first }

    init(clients: [RaceClient], maxConnecting: Int) {
        self.clients = clients
        self.maxConnecting = max(1, maxConnecting)
    }

    func startConnecting() {
        while next < clients.count && next - readyCount < maxConnecting {
            clients[next].begin()
            next += 1
        }
    }

    func readyOne() {
        readyCount += 1
        startConnecting()
    }
}

/// Hands a value from the loop thread to the waiting caller.
private final class ResultBox<T> {
    private var value: T?
    private let semaphore = DispatchSemaphore(value: 0)
    func put(_ v: T) { value = v; semaphore.signal() }
    func take() -> T { semaphore.wait(); return value! }
}
