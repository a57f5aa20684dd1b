// Byte and request counters, per transport and per client (PROTOCOL.md §2 `/stats`).
//
// Counts are taken where bytes cross the socket: the return values of read() and write(), never
// recomputed from message sizes (a design rule). Each loop thread owns a shard and updates it
// without a lock; a `/stats` request asks every loop for a snapshot of its own shard (on that
// loop's thread, through its queue) and merges them (`Server.gatherTotals`). No lock is taken on
// the request path, and none is ever held across I/O.
//
// Client names are bounded (PROTOCOL.md §9 `--max-clients`): the first N distinct names get
// counters of their own, later ones count under "(other)".
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

/// Who a run of bytes belongs to: a transport (or none, e.g. `/stats` itself) and a client;
/// or, with `http2`, an HTTP/2 connection itself (the preface and frames on stream 0, which
/// belong to no stream: the `"http2"` object of `/stats`).
public struct CounterTag {
    public var transport: Transport?
    public var client: ClientCounters?
    public var http2 = false
    public static let none = CounterTag(transport: nil, client: nil)
    public static let http2Connection = CounterTag(transport: nil, client: nil, http2: true)
}

/// The distinct client names of the whole server, at most `limit` (PROTOCOL.md §9).
/// Consulted only the first time a shard sees a name, so its lock is off the request path.
public final class ClientNames {
    public static let other = "(other)"
    private let lock = Lock()
    private var names = Set<String>()
    let limit: Int
    public init(limit: Int) { self.limit = limit }

    /// The name to count under: `name` itself while there is room, else "(other)".
    func admit(_ name: String) -> String {
        lock.withLock {
            if names.contains(name) { return name }
            guard names.count < limit else { return ClientNames.other }
            names.insert(name)
            return name
        }
    }
}

/// One loop's counters. Touched only by that loop's thread: no lock.
public final class StatsShard {
    /// Per transport, indexed by `Transport.rawValue`. PERF: fixed storage rather than a Swift
    /// array: an array stored in a class checks that its buffer is not shared on every write,
    /// and this is written several times per request and per fan-out copy.
    private let transports = UnsafeMutablePointer<Counters>.allocate(capacity: Transport.allCases.count)
    private var clients: [String: ClientCounters] = [:]
    /// HTTP/2 connections: their preface and stream-0 frames (SETTINGS, PING, WINDOW_UPDATE, GOAWAY).
    private var http2 = Counters()
    let names: ClientNames

    public init(names: ClientNames = ClientNames(limit: 10_000)) {
        self.names = names
        transports.initialize(repeating: Counters(), count: Transport.allCases.count)
    }

    deinit {
        transports.deinitialize(count: Transport.allCases.count)
        transports.deallocate()
    }

    /// The counters box for a client name (created on first use; "(other)" past `--max-clients`).
    func client(_ name: String) -> ClientCounters {
        if let c = clients[name] { return c }
        let key = names.admit(name)
        if let c = clients[key] { return c }   // a name counted under "(other)" is not remembered
        let c = ClientCounters()
        clients[key] = c
        return c
    }

    @inline(__always)
    func update(_ tag: CounterTag, _ change: (inout Counters) -> Void) {
        if let t = tag.transport { change(&transports[t.rawValue]) }   // (a pointer: no uniqueness check)
        if let c = tag.client { change(&c.counters) }
        if tag.http2 { change(&http2) }
    }

    func addBytesIn(_ n: Int, _ tag: CounterTag) { if n != 0 { update(tag) { $0.bytesIn += n } } }
    func addBytesOut(_ n: Int, _ tag: CounterTag) { if n != 0 { update(tag) { $0.bytesOut += n } } }
    func addRequest(_ tag: CounterTag) { update(tag) { $0.requests += 1 } }
    func addConnection(_ tag: CounterTag) { update(tag) { $0.connections += 1; $0.open += 1 } }
    func connectionClosed(_ tag: CounterTag) { update(tag) { $0.open -= 1 } }
    func addEvents(_ n: Int, _ tag: CounterTag) { if n != 0 { update(tag) { $0.eventsSent += n } } }

    /// This loop's counters now. Call on the shard's own loop thread.
    func snapshot() -> StatsTotals {
        StatsTotals(transports: Array(UnsafeBufferPointer(start: transports, count: Transport.allCases.count)), clients: clients.mapValues { $0.counters }, http2: http2)
    }
}

/// Counters of one shard, or of all shards merged.
public struct StatsTotals {
    public var transports = [Counters](repeating: Counters(), count: Transport.allCases.count)
    public var clients: [String: Counters] = [:]
    public var http2 = Counters()

    mutating func merge(_ other: StatsTotals) {
        for i in transports.indices { transports[i] = transports[i] + other.transports[i] }
        http2 = http2 + other.http2
        for (name, c) in other.clients { clients[name] = (clients[name] ?? Counters()) + c }
    }

    /// The `/stats` body (PROTOCOL.md §2).
    func json(uptime: Double, eventsPublished: Int) -> String {
        var out = "{\"uptime_s\":\(JSON.number((uptime * 1000).rounded() / 1000)),\"events_published\":\(eventsPublished),\"transports\":{"
        out += Transport.allCases.map { "\"\($0.name)\":\(transports[$0.rawValue].json)" }.joined(separator: ",")
        // HTTP/2 connection overhead (preface, stream-0 frames) belongs to no transport: it has
        // its own object, so transports + http2 still add up to what crossed the sockets.
        out += "},\"http2\":{\"connections\":\(http2.connections),\"bytes_in\":\(http2.bytesIn),\"bytes_out\":\(http2.bytesOut)}"
        out += ",\"clients\":{"
        out += clients.keys.sorted().map { "\(JSON.string($0)):\(clients[$0]!.json)" }.joined(separator: ",")
        out += "}}"
        return out
    }

    /// GET /classroom/stats: open connections per transport and per client, for the teacher view.
    func openJSON() -> String {
        var out = "{\"transports\":{"
        out += Transport.allCases.map { "\"\($0.name)\":{\"open\":\(transports[$0.rawValue].open)}" }.joined(separator: ",")
        out += "},\"clients\":{"
        out += clients.keys.sorted().map { "\(JSON.string($0)):{\"open\":\(clients[$0]!.open)}" }.joined(separator: ",")
        return out + "}}"
    }

    func clientJSON(_ name: String) -> String {
        (clients[name] ?? Counters()).json
    }
}

/// All shards together: what `/stats` reports (merged by `Server.gatherTotals`).
public final class Stats {
    public let shards: [StatsShard]
    public let names: ClientNames
    public let startNanos = LoopClock.monotonicNanos()

    public init(shardCount: Int, maxClients: Int = 10_000) {
        names = ClientNames(limit: maxClients)
        shards = (0..<shardCount).map { [names] _ in StatsShard(names: names) }
    }

    public var uptime: Double { Double(LoopClock.monotonicNanos() - startNanos) / 1e9 }
}
