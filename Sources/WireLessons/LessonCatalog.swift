// The course: eight lessons (PROTOCOL.md §6). Each lesson's walkthrough is Lessons/NN-slug/README.md
// and what it measures is Lessons/NN-slug/scenario.json; this file holds what `wirelab lesson`
// says around the measurement: the idea in two sentences, which exchange to show on the wire,
// and the "what to notice" sentences, computed from the measured numbers (never canned).
import WireMeasure

public struct Lesson {
    public var number: Int
    public var slug: String
    public var title: String
    public var idea: String
    /// The exchange `inspect` shows live, if any.
    public var wire: InspectTransport?
    /// Sentences from the measurements of every run (one run, or one per sweep value).
    var notice: ([LessonRun]) -> [String]

    public var folder: String { String(format2: number) + "-" + slug }
}

/// One measured run of a lesson: its label (the swept value, if any), the race result and the model.
public struct LessonRun {
    public var label: String
    public var result: RaceResult
    public var predictions: [RaceTransport: Prediction]

    func r(_ t: RaceTransport) -> TransportResult? { result.result(t) }
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
    static func round1(_ v: Double) -> String { String(Double(Int((v * 10).rounded())) / 10) }
    static func times(_ v: Double) -> String { "\(round1(v))×" }
}

public enum LessonCatalog {
    public static let all: [Lesson] = [
        Lesson(number: 1, slug: "short-polling", title: "Short polling — asking on a timer",
               idea: "The client asks GET /poll?since=N on a timer and the server answers at once, with or without events. An event waits for the next question.",
               wire: .poll, notice: { runs in
                   guard let run = runs.first, let p = run.r(.poll), let lat = p.latency else { return [] }
                   let interval = run.result.settings.pollInterval * 1000
                   let rate = run.result.settings.rate
                   var out = ["Mean latency was \(Say.ms(lat.mean)): \(Say.times(lat.mean / (interval / 2))) half the poll interval (\(Say.ms(interval / 2))). The timer, not the network, sets it" + (rate > 0 ? "; the phase between the poll timer and the generator moves it by up to ±\(Say.ms(500 / rate))." : ".")]
                   out.append("\(p.requests) requests brought \(Int(p.events)) events; \(p.emptyResponses) answers were empty.")
                   if let bpe = p.bytesPerEvent { out.append("Each event cost \(Say.bytes(bpe)) on the wire, of which the event JSON is only \(run.result.settings.size + 52) B: the rest is request and response headers.") }
                   return out
               }),
        Lesson(number: 2, slug: "long-polling", title: "Long polling — holding the question open",
               idea: "GET /longpoll?since=N waits at the server until an event exists. The question is always there when the event happens.",
               wire: .longpoll, notice: { runs in
                   guard let run = runs.first, let lp = run.r(.longpoll), let l = lp.latency else { return [] }
                   var out = ["Long polling delivered in \(Say.ms(l.mean)) on average" + (run.r(.poll)?.latency.map { ", short polling in \(Say.ms($0.mean)): \(Say.times($0.mean / max(l.mean, 0.001))) slower." } ?? ".")]
                   if lp.events > 0 { out.append("It made \(lp.requests) requests for \(Int(lp.events)) events: \(Say.round1(Double(lp.requests) / lp.events)) requests per event, each a full HTTP exchange.") }
                   if let sp = run.r(.poll) { out.append("Empty answers: long polling \(lp.emptyResponses), short polling \(sp.emptyResponses).") }
                   return out
               }),
        Lesson(number: 3, slug: "server-sent-events", title: "Server-Sent Events — one response that never ends",
               idea: "GET /sse answers once and never finishes: each event is a text block in one HTTP chunk. On reconnect, Last-Event-ID resumes where the stream stopped.",
               wire: .sse, notice: { runs in
                   guard let run = runs.first, let s = run.r(.sse) else { return [] }
                   var out = ["SSE used \(s.requests) request(s) and \(s.connections) connection(s) for \(Int(s.events)) events; the stream was dropped halfway and resumed with Last-Event-ID."]
                   out.append("Missed after the drop: \(Int(s.missed)); duplicates: \(Int(s.duplicates)). The server replayed from its history.")
                   if let b = s.bytesPerEvent, let pb = run.r(.poll)?.bytesPerEvent {
                       out.append("Bytes per event: SSE \(Say.bytes(b)), short polling \(Say.bytes(pb)).")
                   }
                   return out
               }),
        Lesson(number: 4, slug: "websocket", title: "WebSocket — the upgrade, frames, masking, both directions",
               idea: "An HTTP request with Upgrade: websocket turns the connection into a channel of frames, both ways. A small server frame has 2 bytes of header; client frames add a 4-byte masking key.",
               wire: .ws, notice: { runs in
                   guard let run = runs.first, let w = run.r(.ws) else { return [] }
                   var out: [String] = []
                   if let b = w.bytesPerEvent { out.append("WebSocket: \(Say.bytes(b)) per event, for a \(run.result.settings.size + 52) B event JSON.") }
                   if let s = run.r(.sse), let sb = s.bytesPerEvent { out.append("SSE: \(Say.bytes(sb)) per event: the text fields and chunk framing cost more than a 2-byte frame header.") }
                   if let wl = w.latency, let sl = run.r(.sse)?.latency { out.append("Latency, mean: WebSocket \(Say.ms(wl.mean)), SSE \(Say.ms(sl.mean)): both push on an open connection.") }
                   return out
               }),
        Lesson(number: 5, slug: "the-race", title: "The race — all four across event rates",
               idea: "All four transports watch one stream, at several event rates. Polling pays per question, push pays per event, so the ranking moves with the rate.",
               wire: nil, notice: { runs in
                   var out: [String] = []
                   for run in runs {
                       let ranked = RaceTransport.allCases.compactMap { t in run.r(t)?.bytesPerEvent.map { (t, $0) } }.sorted { $0.1 < $1.1 }
                       guard let best = ranked.first, let worst = ranked.last else { continue }
                       out.append("At \(run.label): fewest bytes per event \(best.0.rawValue) (\(Say.bytes(best.1))), most \(worst.0.rawValue) (\(Say.bytes(worst.1))).")
                   }
                   if let first = runs.first?.r(.poll)?.bytesPerEvent, let last = runs.last?.r(.poll)?.bytesPerEvent {
                       out.append("Short polling's bytes per event went from \(Say.bytes(first)) to \(Say.bytes(last)) as events began to share each answer.")
                   }
                   return out
               }),
        Lesson(number: 6, slug: "talking-back", title: "Talking back — a POST per message against a frame per message",
               idea: "HTTP transports talk back with a new request (POST /publish); a WebSocket sends one masked frame on the connection it has. /echo returns every message, so the round trip can be timed.",
               wire: nil, notice: { _ in [] }),
        Lesson(number: 7, slug: "a-crowd", title: "A crowd — 1 to 1,000 clients",
               idea: "N pollers make N requests per interval whether or not anything happens; N subscribers cost the server one write per event each, of bytes it built once.",
               wire: nil, notice: { runs in
                   var out: [String] = []
                   for run in runs {
                       guard let p = run.r(.poll), let w = run.r(.ws) else { continue }
                       out.append("\(run.label): polling made \(p.requests) requests, WebSocket \(w.requests)" + (w.latency.map { "; WebSocket p99 latency \(Say.ms($0.p99))" } ?? "") + ".")
                   }
                   return out
               }),
        Lesson(number: 8, slug: "size-matters", title: "Size matters — when headers dominate and when they vanish",
               idea: "Every transport adds a roughly fixed overhead per event or per request. For tiny events that overhead is most of the bytes; for large ones it vanishes.",
               wire: nil, notice: { runs in
                   var out: [String] = []
                   for run in runs {
                       let payload = Double(run.result.settings.size + 52)
                       let parts = RaceTransport.allCases.compactMap { t in run.r(t)?.bytesPerEvent.map { "\(t.rawValue) \(Say.times($0 / payload))" } }
                       out.append("\(run.label): bytes on the wire per byte of event: " + parts.joined(separator: ", ") + ".")
                   }
                   return out
               }),
    ]

    public static func lesson(_ n: Int) -> Lesson? { all.first { $0.number == n } }
}
