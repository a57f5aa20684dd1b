// The course: the lessons of PROTOCOL.md §6. Each lesson's walkthrough is Lessons/NN-slug/README.md
// and what it measures is Lessons/NN-slug/scenario.json (settings, sweep, repeats, heartbeat, a
// dropped stream); this file holds what `wirelab lesson` says around the measurement: the idea
// in two sentences, which exchange to show on the wire, and the rules that pick and word the
// "what to notice" sentences from the measured numbers (LessonNotices.swift). The runner
// (LessonRunner.swift) is the same for every lesson; no lesson number appears in its code.
import WireMeasure

public struct Lesson {
    public var number: Int
    public var slug: String
    public var title: String
    public var idea: String
    /// The exchange `inspect` shows live, if any.
    public var wire: InspectTransport?
    /// The rules, in the order their sentences are printed.
    var rules: [NoticeRule]

    public var folder: String { String(format2: number) + "-" + slug }

    /// Every sentence whose rule applies to these runs.
    func sentences(_ runs: [LessonRun]) -> [String] { rules.flatMap { $0.say(runs) } }
    /// Kept for callers of version 1.
    var notice: ([LessonRun]) -> [String] { sentences }
}

/// A rule: from the runs, zero or more sentences, each chosen and worded from the numbers.
struct NoticeRule {
    var name: String
    var say: ([LessonRun]) -> [String]
    init(_ name: String, _ say: @escaping ([LessonRun]) -> [String]) { self.name = name; self.say = say }
}

extension String {
    init(format2 n: Int) { self = n < 10 ? "0\(n)" : "\(n)" }
}

/// Number formatting for sentences: "512 ms", "0.8 ms", "1,234 B".
enum Say {
    static func ms(_ v: Double) -> String {
        if v < 1 { return "\(Int((v * 1000).rounded())) µs" }
        return v >= 10 ? "\(Int(v.rounded())) ms" : "\(round1(v)) ms"
    }
    static func bytes(_ v: Double) -> String { "\(Int(v.rounded())) B" }
    static func bytes1(_ v: Double) -> String { v != 0 && abs(v) < 10 ? "\(round1(v)) B" : bytes(v) }
    static func round1(_ v: Double) -> String { String(Double(Int((v * 10).rounded())) / 10) }
    static func times(_ v: Double) -> String { v >= 20 ? "\(Int(v.rounded()))×" : "\(round1(v))×" }
    static func count(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : round1(v) }
    static func percent(_ v: Double) -> String { "\(Int((v * 100).rounded())) %" }
    static func bounded(_ b: Bounded, _ f: (Double) -> String) -> String { "\(f(b.value)) ± \(f(b.bound))" }
}

public enum LessonCatalog {
    public static let all: [Lesson] = [
        Lesson(number: 1, slug: "short-polling", title: "Short polling — asking on a timer",
               idea: "The client asks GET /poll?since=N on a timer and the server answers at once, with or without events. An event waits for the next question.",
               wire: .poll, rules: Notices.shortPolling),
        Lesson(number: 2, slug: "long-polling", title: "Long polling — holding the question open",
               idea: "GET /longpoll?since=N waits at the server until an event exists. The question is always there when the event happens.",
               wire: .longpoll, rules: Notices.longPolling),
        Lesson(number: 3, slug: "server-sent-events", title: "Server-Sent Events — one response that never ends",
               idea: "GET /sse answers once and never finishes: each event is a text block in one HTTP chunk. On reconnect, Last-Event-ID resumes where the stream stopped.",
               wire: .sse, rules: Notices.serverSentEvents),
        Lesson(number: 4, slug: "websocket", title: "WebSocket — the upgrade, frames, masking, both directions",
               idea: "An HTTP request with Upgrade: websocket turns the connection into a channel of frames, both ways. A small server frame has 2 bytes of header; client frames add a 4-byte masking key.",
               wire: .ws, rules: Notices.webSocket),
        Lesson(number: 5, slug: "the-race", title: "The race — all four across event rates",
               idea: "All four transports watch one stream, at several event rates. Polling pays per question, push pays per event, so the ranking moves with the rate.",
               wire: nil, rules: Notices.race),
        Lesson(number: 6, slug: "talking-back", title: "Talking back — a POST per message against a frame per message",
               idea: "HTTP transports talk back with a new request (POST /publish); a WebSocket sends one masked frame on the connection it has. /echo returns every message, so the round trip can be timed.",
               wire: nil, rules: []),
        Lesson(number: 7, slug: "a-crowd", title: "A crowd — 1 to 1,000 clients",
               idea: "N pollers make N requests per interval whether or not anything happens; N subscribers cost the server one write per event each, of bytes it built once.",
               wire: nil, rules: Notices.crowd),
        Lesson(number: 8, slug: "size-matters", title: "Size matters — when headers dominate and when they vanish",
               idea: "Every transport adds a roughly fixed overhead per event or per request. For tiny events that overhead is most of the bytes; for large ones it vanishes.",
               wire: nil, rules: Notices.size),
        Lesson(number: 9, slug: "far-away", title: "Far away — the race at 0, 50 and 150 ms one-way delay",
               idea: "The same four clients, through `wirelab proxy --delay D --jitter 20`: every byte now takes D ± 20 ms each way. Push pays D once per event, and so does short polling (its questions arrive later but still one interval apart); long polling pays more when its next question is still travelling as the event comes.",
               wire: nil, rules: Notices.farAway),
        Lesson(number: 10, slug: "middleboxes", title: "Middleboxes — buffers, idle timeouts, lost upgrades",
               idea: "Between a browser and a server sit proxies and load balancers that buffer responses, cut quiet connections and drop the Upgrade header. SSE, WebSocket and the negotiating auto client meet each of them, first in `wirelab proxy`, then in a real nginx.",
               wire: nil, rules: Notices.middleboxes),
        Lesson(number: 11, slug: "reconnect-storms", title: "Reconnect storms — 1,000 clients after a cut",
               idea: "A restart closes every connection at once, and every client comes back at once. How they wait before reconnecting (immediate, capped exponential backoff, full jitter) can spread that wave — if the wait window is wide enough, which the lesson measures; resuming with since= decides whether anything is lost.",
               wire: nil, rules: Notices.storms),
        Lesson(number: 12, slug: "http2", title: "HTTP/2 — one connection, many streams, compressed headers",
               idea: "HTTP/2 carries every request as a stream of one connection and compresses headers with HPACK, so polling's repeated heads shrink to indexes and the six-connections-per-host limit that starves a seventh EventSource disappears. SSE and WebSocket (RFC 8441) keep their bytes, inside DATA frames.",
               wire: .h2, rules: []),
    ]

    public static func lesson(_ n: Int) -> Lesson? { all.first { $0.number == n } }
}
