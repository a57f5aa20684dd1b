// The "what to notice" rules of each lesson. A rule looks at the measured runs and returns the
// sentences the numbers support, worded from them: each claim ("faster", "resumed", "about
// linear", "vanish") is made only when the numbers say so, and the other wording is there for
// when they do not. Tests feed every lesson two contrasting results and check the text follows.
import WireMeasure

enum Notices {
    // MARK: shared rules

    /// Short polling's latency against half the interval, with the phase bound of finding 8.
    static let pollPhase = NoticeRule("poll-phase") { runs in
        runs.compactMap { run -> String? in
            guard let lat = run.latencyMedian(.poll), run.settings.rate > 0 else { return nil }
            let i = run.settings.pollInterval * 1000, r = run.settings.rate
            let half = i / 2, phase = min(i, 1000 / r) / 2
            let at = runs.count > 1 ? "At \(run.label), s" : "S"
            // The model's figure when there is one: half the interval, plus the longer first
            // interval of a short run, ± the phase and the schedule (TransportModel.pollWait).
            let band = run.predictions[.poll]?.latency ?? Bounded(value: half, bound: phase + 5)
            let inside = band.holds(lat)
            var text = "\(at)hort polling's mean latency was \(Say.ms(lat)) against half the poll interval (\(Say.ms(half))" + (run.predictions[.poll] != nil ? "; the model says \(Say.bounded(band, Say.ms)) for this run's length)" : ")")
            if r * run.settings.pollInterval <= 1.0001 {
                text += ": events come no more often than polls (\(Say.round1(r)) × \(Say.round1(i / 1000)) s ≤ 1), so every event of a run waits the same phase of the poll timer and one run's mean can be anywhere from 0 to \(Say.ms(i))"
            } else {
                text += ": the events fall on \(Say.round1(r * run.settings.pollInterval)) phases of the poll timer, so one run's mean may sit up to ±\(Say.ms(phase)) from it"
            }
            if let s = run.latencySpread(.poll), run.latencySamples(.poll).count > 1 {
                text += "; over \(run.latencySamples(.poll).count) clients at random phases it ranged \(Say.ms(s.low))–\(Say.ms(s.high))"
            }
            return text + (inside ? "." : " — this time outside the model's band: the machine was busy, or a term is missing.")
        }
    }

    /// Model against measurement: which predictions held within their bounds.
    static let model = NoticeRule("model") { runs in
        var held = 0, total = 0
        var misses: [String] = []
        for run in runs {
            for r in run.result.results {
                guard let p = run.predictions[r.transport] else { continue }
                if let l = run.latencyMedian(r.transport) {
                    total += 1
                    if p.latency.holds(l) { held += 1 } else { misses.append("\(r.transport.rawValue) latency\(runs.count > 1 ? " at " + run.label : "") (\(Say.ms(l)) against \(Say.bounded(p.latency, Say.ms)))") }
                }
                if let b = run.bytesPerEvent(r.transport) {
                    total += 1
                    if p.bytes.holds(b) { held += 1 } else { misses.append("\(r.transport.rawValue) bytes\(runs.count > 1 ? " at " + run.label : "") (\(Say.bytes(b)) against \(Say.bounded(p.bytes, Say.bytes)))") }
                }
                if let w = run.wireBytesPerEvent(r.transport) {
                    total += 1
                    if p.wireBytes.holds(w) { held += 1 } else { misses.append("\(r.transport.rawValue) wire bytes\(runs.count > 1 ? " at " + run.label : "") (\(Say.bytes(w)) against \(Say.bounded(p.wireBytes, Say.bytes)))") }
                }
            }
        }
        guard total > 0 else { return [] }
        if misses.isEmpty { return ["Every prediction (\(total)) held within its bound: the model's terms account for what you measured."] }
        return ["\(held) of \(total) predictions held within their bounds; outside: " + misses.prefix(3).joined(separator: "; ") + ". A miss is a term the model lacks, or a busy machine: rerun and compare."]
    }

    /// Bytes per event in the ledger: how much of an event's cost is the event itself.
    static func share(_ t: RaceTransport, _ run: LessonRun) -> (payload: Double, headers: Double, tcpip: Double, total: Double)? {
        guard let l = run.ledgerPerEvent(t), l.total > 0 else { return nil }
        return (l.payload, l.headers + l.handshake, l.tcpip, l.total)
    }

    /// Ranking by TCP payload and by wire bytes: finding 3, the order may flip with TCP/IP.
    static let ranking = NoticeRule("ranking") { runs in
        runs.compactMap { run -> String? in
            let ts = run.result.results.map(\.transport)
            let byPayload = ts.compactMap { t in run.bytesPerEvent(t).map { (t, $0) } }.sorted { $0.1 < $1.1 }
            let byWire = ts.compactMap { t in run.wireBytesPerEvent(t).map { (t, $0) } }.sorted { $0.1 < $1.1 }
            guard byPayload.count > 1, let best = byPayload.first, let worst = byPayload.last else { return nil }
            let at = runs.count > 1 ? "At \(run.label): " : ""
            var text = "\(at)fewest bytes per event \(best.0.rawValue) (\(Say.bytes(best.1))), most \(worst.0.rawValue) (\(Say.bytes(worst.1)))"
            if byPayload.map(\.0) != byWire.map(\.0) {
                // Why it changed, from which transport moved: short polling up the ranking means
                // batching; otherwise the fixed segments (set-up, close, pings) of a few events.
                let pollRose = (byWire.firstIndex { $0.0 == .poll } ?? 0) < (byPayload.firstIndex { $0.0 == .poll } ?? 0)
                let why = pollRose ? "each pushed event costs its own segment and ACK, while a poll answer carries several events in one"
                                   : "with few events, each connection's opening and closing segments and the pings' segments weigh on every event"
                text += "; counting TCP/IP headers and ACKs the order changes to " + byWire.map { "\($0.0.rawValue) \(Say.bytes($0.1))" }.joined(separator: " < ") + " (\(why))"
            } else {
                text += "; with TCP/IP headers the order stays the same"
            }
            return text + "."
        }
    }

    // MARK: lessons

    static let shortPolling: [NoticeRule] = [
        pollPhase,
        NoticeRule("empty") { runs in
            guard let run = runs.first, let req = run.requests(.poll), let empty = run.empty(.poll), let ev = run.events(.poll) else { return [] }
            let perPoll = run.settings.rate * run.settings.pollInterval
            if empty == 0 {
                return ["\(Say.count(req)) requests brought \(Say.count(ev)) events and none came back empty: with \(Say.round1(perPoll)) events per interval every poll found something."]
            }
            return ["\(Say.count(req)) requests brought \(Say.count(ev)) events; \(Say.count(empty)) answers (\(Say.percent(empty / max(req, 1)))) were empty: " + (perPoll < 1 ? "events come less often than polls, and every empty answer costs a full exchange." : "some intervals held no event.")]
        },
        NoticeRule("headers") { runs in
            guard let run = runs.first, let s = share(.poll, run), let b = run.bytesPerEvent(.poll) else { return [] }
            let h = s.headers / max(b, 1)
            return ["Each event cost \(Say.bytes(b)) of TCP payload (\(Say.bytes(s.total)) with TCP/IP); the event JSON is \(Say.bytes(s.payload)) of it and request and response heads \(Say.percent(h))" + (h > 0.5 ? ": the heads, not the events, are most of the traffic." : ": enough events share each answer that the heads are not the larger part.")]
        },
        model,
    ]

    static let longPolling: [NoticeRule] = [
        NoticeRule("faster") { runs in
            guard let run = runs.first, let lp = run.latencyMedian(.longpoll) else { return [] }
            guard let sp = run.latencyMedian(.poll) else { return ["Long polling delivered in \(Say.ms(lp)) (median of client means)."] }
            if lp < sp { return ["Long polling delivered in \(Say.ms(lp)), short polling in \(Say.ms(sp)): \(Say.times(sp / max(lp, 0.001))) slower, because its events wait for the timer."] }
            return ["Long polling took \(Say.ms(lp)), short polling \(Say.ms(sp)): long polling was not faster this time (too few events, or a busy machine); rerun it."]
        },
        NoticeRule("requests") { runs in
            guard let run = runs.first, let req = run.requests(.longpoll), let ev = run.events(.longpoll), ev > 0 else { return [] }
            let perEvent = req / ev
            if perEvent >= 0.9 {
                return ["It made \(Say.count(req)) requests for \(Say.count(ev)) events: \(Say.round1(perEvent)) per event (one per event, plus the last question left waiting), each a full HTTP exchange."]
            }
            return ["It made \(Say.count(req)) requests for \(Say.count(ev)) events, \(Say.round1(perEvent)) per event: events that came while the next question was on its way shared an answer."]
        },
        NoticeRule("empty") { runs in
            guard let run = runs.first, let lp = run.empty(.longpoll) else { return [] }
            let sp = run.empty(.poll).map { ", short polling \(Say.count($0))" } ?? ""
            return ["Empty answers: long polling \(Say.count(lp))\(sp)" + (lp == 0 ? " — a long poll answers only when there is an event (or after its 25 s timeout)." : " — some long polls timed out with no event.")]
        },
        NoticeRule("bytes") { runs in
            guard let run = runs.first, let lp = run.bytesPerEvent(.longpoll), let sp = run.bytesPerEvent(.poll) else { return [] }
            let perPoll = run.settings.rate * run.settings.pollInterval
            return ["Bytes per event: long polling \(Say.bytes(lp)), short polling \(Say.bytes(sp))" + (lp > sp ? ": short polling was cheaper, because each poll batched \(Say.round1(perPoll)) events (PROTOCOL.md §5's note)." : ": long polling was cheaper, because short polls came about as often as events or more.")]
        },
        model,
    ]

    static let serverSentEvents: [NoticeRule] = [
        NoticeRule("resume") { runs in
            guard let run = runs.first, let conns = run.connections(.sse), let missed = run.missed(.sse), let dup = run.duplicates(.sse) else { return [] }
            if conns <= 1 {
                return ["SSE used one request and one connection for every event: the stream was never dropped in this run, so nothing had to be resumed."]
            }
            let what = missed == 0 ? "resumed with Last-Event-ID and nothing was missed: the server replayed the gap from its history" : "\(Say.count(missed)) events were missed after the drop"
            return ["SSE opened \(Say.count(conns)) connections: the stream was dropped and the client reconnected; it \(what)" + (dup > 0 ? "; \(Say.count(dup)) arrived twice." : "; none arrived twice.")]
        },
        NoticeRule("heartbeat") { runs in
            guard let run = runs.first, let l = run.ledgerPerEvent(.sse) else { return [] }
            if l.heartbeats > 0 { return ["The ledger shows \(Say.bytes1(l.heartbeats)) of `: hb` heartbeat comments per event: the stream fell silent longer than the heartbeat."] }
            return ["No heartbeat in this run: at \(Say.round1(run.settings.rate)) events/s the stream is never silent for a whole heartbeat, so the ledger's heartbeats are 0."]
        },
        NoticeRule("bytes") { runs in
            guard let run = runs.first, let s = run.ledgerPerEvent(.sse), let b = run.bytesPerEvent(.sse) else { return [] }
            let poll = run.bytesPerEvent(.poll).map { "; short polling \(Say.bytes($0))" } ?? ""
            return ["Bytes per event: SSE \(Say.bytes(b))\(poll). Of SSE's, \(Say.bytes1(s.framing)) is framing (the id/event/data fields and the chunk line) and \(Say.bytes1(s.handshake)) its request and response head\((run.connections(.sse) ?? 1) > 1 ? ", once per connection," : "") spread over the run's events."]
        },
        model,
    ]

    static let webSocket: [NoticeRule] = [
        NoticeRule("framing") { runs in
            guard let run = runs.first, let w = run.ledgerPerEvent(.ws), let wb = run.bytesPerEvent(.ws) else { return [] }
            var out = ["WebSocket: \(Say.bytes(wb)) per event, of which framing \(Say.bytes1(w.framing)) (a 2-byte header per small frame, plus the closing handshake spread over the run)."]
            if let s = run.ledgerPerEvent(.sse) {
                out.append("SSE's framing per event was \(Say.bytes1(s.framing)): " + (s.framing > w.framing ? "its text fields and chunk line cost more than a frame header." : "no more than WebSocket's this time."))
            }
            return out
        },
        NoticeRule("latency") { runs in
            guard let run = runs.first, let w = run.latencyMedian(.ws), let s = run.latencyMedian(.sse) else { return [] }
            let spread = [run.latencySpread(.ws), run.latencySpread(.sse)].compactMap { $0.map { $0.high - $0.low } }.max() ?? 0
            if abs(w - s) <= max(spread, 0.05) {
                return ["Latency: WebSocket \(Say.ms(w)), SSE \(Say.ms(s)): the same within the spread of the runs — both push on an open connection."]
            }
            return ["Latency: WebSocket \(Say.ms(w)), SSE \(Say.ms(s)): \(w < s ? "WebSocket" : "SSE") was faster by \(Say.ms(abs(w - s))), more than the spread (\(Say.ms(spread)))\(w < s ? "; parsing chunks and text fields costs the client a little more than a frame" : ", although SSE's chunks and text fields are more to parse than a frame: a difference this small is the machine's, so rerun it")."]
        },
        NoticeRule("pings") { runs in
            guard let run = runs.first, let l = run.ledgerPerEvent(.ws) else { return [] }
            if l.heartbeats > 0 { return ["The server pinged during the run; each ping (2 B) and our masked pong (6 B) show in the ledger's heartbeats."] }
            return ["No ping during the run: the server pings every heartbeat, longer than this run."]
        },
        model,
    ]

    static let race: [NoticeRule] = [
        ranking,
        NoticeRule("poll-trend") { runs in
            guard runs.count > 1, let first = runs.first, let last = runs.last,
                  let a = first.bytesPerEvent(.poll), let b = last.bytesPerEvent(.poll) else { return [] }
            return ["Short polling's bytes per event went from \(Say.bytes(a)) at \(first.label) to \(Say.bytes(b)) at \(last.label)" + (b < a ? ": more events share each answer as the rate grows." : ".")]
        },
        pollPhase,
        model,
    ]

    static let crowd: [NoticeRule] = [
        NoticeRule("requests") { runs in
            runs.compactMap { run -> String? in
                guard let p = run.requests(.poll), let w = run.requests(.ws) else { return nil }
                return "\(run.label): polling made \(Say.count(p)) requests, WebSocket \(Say.count(w))."
            }
        },
        NoticeRule("growth") { runs in
            var out: [String] = []
            for t in [RaceTransport.sse, .ws] {
                let points = runs.compactMap { run in run.latencyMedian(t).map { (Double(run.settings.clients), $0) } }
                guard let fit = Stat.linearFit(points), let lo = points.first, let hi = points.last else { continue }
                let perClient = fit.b * 1000
                // A fit over 1…1,000 clients is dominated by its last point: compare the cost per
                // extra client over the last two steps too, so a cost that grows with the crowd
                // is not called linear.
                var steeper: String?
                if points.count >= 3 {
                    let (a, b, c) = (points[points.count - 3], points[points.count - 2], points[points.count - 1])
                    let before = (b.1 - a.1) / max(b.0 - a.0, 1) * 1000, after = (c.1 - b.1) / max(c.0 - b.0, 1) * 1000
                    if before > 0, after > 1.5 * before {
                        steeper = "faster than linear: each extra client cost \(Say.round1(before)) µs from \(Int(a.0)) to \(Int(b.0)) clients and \(Say.round1(after)) µs from \(Int(b.0)) to \(Int(c.0)) (a straight line through all the points has R² = \(String(format: "%.2f", fit.r2)), because the last point outweighs the rest)"
                    }
                }
                let shape = steeper ?? (fit.r2 >= 0.95 ? "about linear (a straight line fits with R² = \(String(format: "%.2f", fit.r2)))" : "not a straight line (R² = \(String(format: "%.2f", fit.r2)))")
                out.append("\(t.rawValue) latency went from \(Say.ms(lo.1)) at \(Int(lo.0)) to \(Say.ms(hi.1)) at \(Int(hi.0)) clients: \(shape), \(Say.round1(perClient)) µs per extra client of each transport — every subscriber is one more write in each broadcast and one more read in the client.")
            }
            return out
        },
        NoticeRule("fair") { runs in
            guard let run = runs.last, let s = run.latencyMedian(.sse), let w = run.latencyMedian(.ws) else { return [] }
            let ratio = max(s, w) / max(min(s, w), 0.001)
            if ratio <= 1.25 { return ["At \(run.label) SSE (\(Say.ms(s))) and WebSocket (\(Say.ms(w))) are within 25 %: each broadcast interleaves them, so neither waits for the other's list."] }
            return ["At \(run.label) \(s > w ? "SSE" : "WebSocket") was \(Say.times(ratio)) slower (\(Say.ms(s)) against \(Say.ms(w))), although each broadcast interleaves them: the difference is in the client's parsing or in the machine, not in list order."]
        },
        model,
    ]

    static let size: [NoticeRule] = [
        NoticeRule("overhead") { runs in
            runs.compactMap { run -> String? in
                let parts = run.result.results.compactMap { r -> String? in
                    guard let l = run.ledgerPerEvent(r.transport), l.payload > 0 else { return nil }
                    return "\(r.transport.rawValue) \(Say.times((l.total - l.tcpip) / l.payload))"
                }
                return parts.isEmpty ? nil : "\(run.label): TCP payload per byte of event: " + parts.joined(separator: ", ") + "."
            }
        },
        NoticeRule("vanish") { runs in
            guard let last = runs.last, let l = last.ledgerPerEvent(.poll), l.total > 0 else { return [] }
            let overhead = (l.headers + l.framing) / (l.total - l.tcpip)
            if overhead < 0.05 { return ["At \(last.label) polling's heads and framing are \(Say.percent(overhead)) of its payload bytes: they vanish next to the event."] }
            return ["Even at \(last.label) polling's heads and framing are \(Say.percent(overhead)) of its payload bytes: they have not vanished yet."]
        },
        NoticeRule("frame-header") { runs in
            let headers = runs.compactMap { run -> (String, Double)? in run.ledgerPerEvent(.ws).map { (run.label, $0.framing) } }
            guard headers.count > 1 else { return [] }
            return ["WebSocket framing per event: " + headers.map { "\(Say.bytes1($0.1)) at \($0.0)" }.joined(separator: ", ") + " — the header grows from 2 to 4 bytes past 125 bytes of payload and to 10 past 65,535 (RFC 6455 §5.2)."]
        },
        model,
    ]
}
