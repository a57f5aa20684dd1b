// Byte and request counters, per transport and per client (PROTOCOL.md §2 `/stats`).
//
// Counts are taken where bytes cross the socket: the return values of read() and write(), never
// recomputed from message sizes (a design rule). Each loop thread owns a shard; a shard's lock is only
// ever contended by a `/stats` request summing all shards.
import WireLoop

public enum Transport: Int, CaseIterable {
    case poll, longpoll, sse, ws
    public var name: String {
        switch self {
        case .poll: return "poll"
        case .longpoll: return "longpoll"
        case .sse: return "sse"
        case .ws: return "ws"
        }
    }
}

public struct Counters: Equatable {
    public var connections = 0
    public var requests = 0
    public var bytesIn = 0
    public var bytesOut = 0
    public var eventsSent = 0
    /// Connections open now (not in the PROTOCOL.md §2 object; the teacher view reads it from
    /// GET /classroom/stats).
    public var open = 0
    public init() {}

    static func + (a: Counters, b: Counters) -> Counters {
        var c = a
        c.connections += b.connections; c.requests += b.requests
        c.bytesIn += b.bytesIn; c.bytesOut += b.bytesOut; c.eventsSent += b.eventsSent
        c.open += b.open
        return c
    }

    public var json: String {
        "{\"connections\":\(connections),\"requests\":\(requests),\"bytes_in\":\(bytesIn),\"bytes_out\":\(bytesOut),\"events_sent\":\(eventsSent)}"
    }
}

/// The counters one client name has on one shard. A connection keeps a reference so the hot
/// path does no dictionary lookup.
public final class ClientCounters {
    var counters = Counters()
}

/// Who a run of bytes belongs to: a transport (or none, e.g. `/stats` itself) and a client.
public struct CounterTag {
    public var transport: Transport?
    public var client: ClientCounters?
    public static let none = CounterTag(transport: nil, client: nil)
}

public final class StatsShard {
    let lock = Lock()
    private var transports = [Counters](repeating: Counters(), count: Transport.allCases.count)
    private var clients: [String: ClientCounters] = [:]

    /// The counters box for a client name (created on first use).
    func client(_ name: String) -> ClientCounters {
        lock.withLock {
            if let c = clients[name] { return c }
            let c = ClientCounters()
            clients[name] = c
            return c
        }
    }

    /// True while `batch` holds the lock (only ever touched by the shard's own loop thread).
    private var inBatch = false

    @inline(__always)
    func update(_ tag: CounterTag, _ change: (inout Counters) -> Void) {
        guard tag.transport != nil || tag.client != nil else { return }
        if !inBatch { lock.lock() }
        if let t = tag.transport { change(&transports[t.rawValue]) }
        if let c = tag.client { change(&c.counters) }
        if !inBatch { lock.unlock() }
    }

    /// Runs `body` holding the lock once, so a broadcast to 10,000 subscribers takes it once
    /// instead of twice per subscriber. Loop thread only; `body` must not call `snapshot`.
    func batch(_ body: () -> Void) {
        lock.lock()
        inBatch = true
        body()
        inBatch = false
        lock.unlock()
    }

    func addBytesIn(_ n: Int, _ tag: CounterTag) { if n != 0 { update(tag) { $0.bytesIn += n } } }
    func addBytesOut(_ n: Int, _ tag: CounterTag) { if n != 0 { update(tag) { $0.bytesOut += n } } }
    func addRequest(_ tag: CounterTag) { update(tag) { $0.requests += 1 } }
    func addConnection(_ tag: CounterTag) { update(tag) { $0.connections += 1; $0.open += 1 } }
    func connectionClosed(_ tag: CounterTag) { update(tag) { $0.open -= 1 } }
    func addEvents(_ n: Int, _ tag: CounterTag) { if n != 0 { update(tag) { $0.eventsSent += n } } }

    func snapshot() -> (transports: [Counters], clients: [String: Counters]) {
        lock.withLock { (transports, clients.mapValues { $0.counters }) }
    }
}

/// All shards together: what `/stats` reports.
public final class Stats {
    public let shards: [StatsShard]
    public let startNanos = LoopClock.monotonicNanos()

    public init(shardCount: Int) {
        shards = (0..<shardCount).map { _ in StatsShard() }
    }

    public func totals() -> (transports: [Counters], clients: [String: Counters]) {
        var transports = [Counters](repeating: Counters(), count: Transport.allCases.count)
        var clients: [String: Counters] = [:]
        for shard in shards {
            let s = shard.snapshot()
            for i in transports.indices { transports[i] = transports[i] + s.transports[i] }
            for (name, c) in s.clients { clients[name] = (clients[name] ?? Counters()) + c }
        }
        return (transports, clients)
    }

    /// The `/stats` body (PROTOCOL.md §2).
    public func json(eventsPublished: Int) -> String {
        let t = totals()
        let uptime = Double(LoopClock.monotonicNanos() - startNanos) / 1e9
        var out = "{\"uptime_s\":\(JSON.number((uptime * 1000).rounded() / 1000)),\"events_published\":\(eventsPublished),\"transports\":{"
        out += Transport.allCases.map { "\"\($0.name)\":\(t.transports[$0.rawValue].json)" }.joined(separator: ",")
        out += "},\"clients\":{"
        out += t.clients.keys.sorted().map { "\(JSON.string($0)):\(t.clients[$0]!.json)" }.joined(separator: ",")
        out += "}}"
        return out
    }

    /// GET /classroom/stats: open connections per transport and per client, for the teacher view.
    public func openJSON() -> String {
        let t = totals()
        var out = "{\"transports\":{"
        out += Transport.allCases.map { "\"\($0.name)\":{\"open\":\(t.transports[$0.rawValue].open)}" }.joined(separator: ",")
        out += "},\"clients\":{"
        out += t.clients.keys.sorted().map { "\(JSON.string($0)):{\"open\":\(t.clients[$0]!.open)}" }.joined(separator: ",")
        return out + "}}"
    }

    public func clientJSON(_ name: String) -> String {
        (totals().clients[name] ?? Counters()).json
    }
}
