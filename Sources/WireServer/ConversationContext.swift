// What a conversation may consult besides its own bytes: the feed, the settings, this loop's
// counters, and the few server-wide facts an answer depends on. One per loop, shared by that
// loop's connections; tests build one with a Feed and a StatsShard and no sockets at all.
import WireLoop
import WireCodec

final class ConversationContext {
    let config: ServerConfig
    let feed: Feed
    let stats: StatsShard
    /// The port the server listens on (the Origin rule, PROTOCOL.md §9).
    var port: Int
    /// `Authorization: Bearer <token>` lets non-loopback callers use POST /control.
    let controlToken: String
    /// POST /control: apply a new rate and/or size (the server restarts its generator).
    var control: (Double?, Int?) -> Void
    /// PROTOCOL.md §9 `--max-buffered`: true while all connections together queue more
    /// (set on this loop by its worker).
    var isOverBuffered = false

    /// The actions a conversation has emitted and its connection has not applied yet
    /// (`Conversation.emit`). One buffer for the loop, its capacity kept: a connection applies
    /// its conversation's actions right after each event, so it never holds two conversations'.
    /// PERF: a buffer per conversation, allocated and freed on every event (so that 10,000 idle
    /// connections hold none), cost a malloc and a free per request and per fan-out copy.
    var actions: [Conversation.Action] = []
    #if DEBUG
    var actionsOwner: ObjectIdentifier?
    #endif

    /// Monotonic time for deadlines: the loop's clock (a test's `ManualClock`, or the system's).
    let clock: MonotonicTimeSource
    /// The loop this context serves (set by its worker): `now()` is then the loop's turn time
    /// (`EventLoop.turnNanos`, one clock read per turn instead of several per request).
    /// Without one (tests that have no sockets), the clock itself.
    var loop: EventLoop?
    @inline(__always)
    func now() -> Int64 {
        if let loop = loop { return loop.turnNanos }
        return clock.nowNanos()
    }
    /// PROTOCOL.md §3 deadlines in nanoseconds, converted once (not per request).
    let headTimeoutNanos: Int64
    let idleTimeoutNanos: Int64

    init(config: ServerConfig, feed: Feed, stats: StatsShard, port: Int, controlToken: String,
         clock: MonotonicTimeSource = SystemMonotonicClock.shared,
         control: @escaping (Double?, Int?) -> Void = { _, _ in }) {
        self.config = config
        self.clock = clock
        headTimeoutNanos = LoopClock.nanos(seconds: config.headTimeout)
        idleTimeoutNanos = LoopClock.nanos(seconds: config.idleTimeout)
        self.feed = feed
        self.stats = stats
        self.port = port
        self.controlToken = controlToken
        self.control = control
    }

    // MARK: Date header (RFC 9110 §6.6.1), formatted once per second

    private var cachedDateSecond = -1
    private var cachedDate: [UInt8] = []
    /// Monotonic time at which the wall clock's second may have turned: until then the line is
    /// current without reading the wall clock (PERF: one clock read per second, not per response).
    private var dateCheckAt: Int64 = 0
    /// Only the system's monotonic clock can say when a wall-clock second turns (a test's manual
    /// clock stands still while real seconds pass): with any other, the wall clock is read each time.
    private lazy var followsSystemClock = clock is SystemMonotonicClock
    var dateHeaderLine: [UInt8] {
        let monotonic = now()
        if followsSystemClock && monotonic < dateCheckAt { return cachedDate }
        let wall = LoopClock.wallMicros()
        dateCheckAt = monotonic + (1_000_000 - wall % 1_000_000) * 1_000
        let second = Int(wall / 1_000_000)
        if second != cachedDateSecond {
            cachedDateSecond = second
            cachedDate = Array("Date: \(HTTPDate.format(epochSeconds: second))\r\n".utf8)
        }
        return cachedDate
    }

    // MARK: the answer to an up-to-date /poll, built once

    /// The last whole response to a plain `GET /poll` with nothing new (`Conversation.answerPoll`):
    /// its bytes change only with the Date second, `next` and `missed`, so a loop answers a
    /// stream of such polls with one shared array instead of building a head and a body each
    /// time (PERF: with the lock-free latest id, this took a `GET /poll` from 15,600 to 9,800
    /// instructions under callgrind; Tests/Bench/perf/README.md figure 2).
    private var emptyPoll: (second: Int, next: Int, missed: Int, bytes: [UInt8]) = (-1, -1, -1, [])

    func emptyPollResponse(next: Int, missed: Int, build: () -> [UInt8]) -> [UInt8] {
        _ = dateHeaderLine        // rolls cachedDateSecond over when the second changes
        if emptyPoll.second != cachedDateSecond || emptyPoll.next != next || emptyPoll.missed != missed {
            emptyPoll = (cachedDateSecond, next, missed, build())
        }
        return emptyPoll.bytes
    }
}

/// Builds a response head straight into bytes: the status line, Date, then fields.
/// The server does not go through `HTTPSerializer.responseHead` (which takes `HTTPHeaders`
/// values) because this runs once per request: here the head is appended into one buffer, with
/// the common lines (status 200, Content-Type, Cache-Control, Date) prebuilt. The wording of
/// the lines is the same (RFC 9112 §4 status line, §5 field lines).
struct ResponseHead {
    private var bytes: [UInt8]

    static let noStore = Array("Cache-Control: no-store\r\n".utf8)
    static let contentTypeJSON = Array("Content-Type: application/json\r\n".utf8)
    static let connectionClose = Array("Connection: close\r\n".utf8)
    static let connectionKeepAlive = Array("Connection: keep-alive\r\n".utf8)

    init(status: Int, date: [UInt8]) {
        bytes = []
        bytes.reserveCapacity(256)
        bytes += ResponseHead.statusLine(status)
        bytes += date
    }

    mutating func add(_ name: String, _ value: String) {
        bytes.append(contentsOf: name.utf8)
        bytes.append(UInt8(ascii: ":")); bytes.append(UInt8(ascii: " "))
        bytes.append(contentsOf: value.utf8)
        bytes.append(13); bytes.append(10)
    }
    mutating func addLine(_ line: [UInt8]) { bytes.append(contentsOf: line) }
    mutating func addRaw(_ text: String) { bytes.append(contentsOf: text.utf8) }
    mutating func finish() -> [UInt8] { bytes.append(13); bytes.append(10); return bytes }

    /// "HTTP/1.1 200 OK\r\n", cached for the common codes.
    static func statusLine(_ status: Int) -> [UInt8] {
        switch status {
        case 200: return ok
        default: return Array("HTTP/1.1 \(status) \(HTTPSerializer.reasonPhrase(status))\r\n".utf8)
        }
    }
    private static let ok = Array("HTTP/1.1 200 OK\r\n".utf8)
}
