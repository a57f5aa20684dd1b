// The "what to notice" rules of lessons 9–11 (bad networks). As in LessonNotices.swift, each
// rule reads the measured runs and words its sentence from them: "waited for the question",
// "fell back", "kept alive", "flattened" are said only when the numbers show it, and the other
// wording is there for when they do not. LessonNoticeTests feeds each rule contrasting runs.
import WireMeasure

extension Notices {
    static let farAway: [NoticeRule] = [distance, growth, pollPhase, model]
    static let middleboxes: [NoticeRule] = [middlebox, heartbeatAgainstIdle]
    static let storms: [NoticeRule] = [nothingMissed, storm]

    // MARK: lesson 9, far away

    /// Push pays the one-way time once; long polling pays it, and a round trip more when the
    /// question is still on its way back.
    static let distance = NoticeRule("distance") { runs in
        runs.compactMap { run -> String? in
            guard let push = [RaceTransport.ws, .sse].compactMap({ run.latencyMedian($0) }).min(),
                  let lp = run.latencyMedian(.longpoll) else { return nil }
            let (delay, jitter) = LessonRunner.distance(run.settings.via)
            var m = ModelInputs(rate: run.settings.rate, size: run.settings.size, pollInterval: run.settings.pollInterval, rtt: 0, duration: run.settings.duration)
            (m.delay, m.jitter) = (delay, jitter)
            let oneWay = m.oneWay * 1000
            let spacing = 1000 / max(run.settings.rate, 1e-9)
            let extra = lp - push
            var text = "At \(run.label), push took \(Say.ms(push)) (the mean one-way time through the proxy is \(Say.ms(oneWay)))"
            // "Waited" only when long polling's extra is a sizeable share of a round trip.
            if extra > max(0.25 * 2 * oneWay, 5) {
                text += "; long polling took \(Say.ms(lp)), \(Say.ms(extra)) more: the round trip without a question at the server (≈ \(Say.ms(2 * oneWay))) is longer than the \(Say.ms(spacing)) between events, so events landed in that gap and waited for the next question"
            } else {
                text += "; long polling took \(Say.ms(lp)), " + (extra <= 0.5 ? "as fast as push" : "within \(Say.ms(extra)) of push") + ": the question was back before the next event (round trip ≈ \(Say.ms(2 * oneWay)) against \(Say.ms(spacing)) between events)"
            }
            return text + "."
        }
    }

    /// From the nearest to the farthest run: how much each transport's latency grew.
    static let growth = NoticeRule("growth") { runs in
        guard runs.count >= 2, let near = runs.first, let far = runs.last else { return [] }
        let grew = RaceTransport.four.compactMap { t -> (RaceTransport, Double)? in
            guard let a = near.latencyMedian(t), let b = far.latencyMedian(t) else { return nil }
            return (t, b - a)
        }
        guard let pushGrowth = grew.filter({ $0.0 == .ws || $0.0 == .sse }).map(\.1).min(), pushGrowth > 0 else { return [] }
        let parts = grew.map { "\($0.0.rawValue) +\(Say.ms($0.1)) (\(Say.times($0.1 / pushGrowth)))" }
        let lpRatio = grew.first { $0.0 == .longpoll }.map { $0.1 / pushGrowth } ?? 1
        let verdict = lpRatio >= 1.5
            ? "long polling grew \(Say.times(lpRatio)) as fast as push: distance costs long polling more than once per event, since its next question must make the trip too (short polling's questions only arrive later, still one interval apart)"
            : "long polling grew about as push did (\(Say.times(lpRatio))): at this event rate the questions kept up"
        return ["From \(near.label) to \(far.label), latency grew by: " + parts.joined(separator: ", ") + "; " + verdict + "."]
    }

    // MARK: lesson 10, middleboxes

    /// One sentence per run that crossed something: what broke, what auto did, what it cost.
    static let middlebox = NoticeRule("middlebox") { runs in
        let direct = runs.first { !$0.crossedAMiddlebox }
        return runs.filter(\.crossedAMiddlebox).compactMap { run -> String? in
            let published = Double(run.result.published)
            var parts: [String] = []
            for t in run.settings.transports where t != .auto {
                guard let r = run.r(t) else { continue }
                let got = run.events(t) ?? 0
                if !r.failures.isEmpty && got == 0 {
                    parts.append("\(t.rawValue) failed (\(r.failures[0]))")
                } else if published > 0 && got < published / 2 {
                    parts.append("\(t.rawValue) received \(Say.count(got)) of \(Int(published)) events (held in between)")
                } else if let n = run.reconnects(t), n > 0 {
                    parts.append("\(t.rawValue) was cut and reconnected \(Say.count(n)) time\(n == 1 ? "" : "s"), missing \(Say.count(run.missed(t) ?? 0))")
                } else {
                    parts.append("\(t.rawValue) got through (\(Say.count(got)) event\(got == 1 ? "" : "s"), no reconnect)")
                }
            }
            if let path = run.path(.auto), !path.isEmpty {
                var autoText = "auto " + (path.contains(">") ? "fell back along \(path)" : "stayed on \(path)")
                if let first = run.firstEventMillis(.auto), let base = direct?.firstEventMillis(.auto), (run.events(.auto) ?? 0) > 0 {
                    autoText += ", first event after \(Say.ms(first)) (direct: \(Say.ms(base)))"
                }
                if let c = run.connections(.auto), c > 1 { autoText += ", \(Say.count(c)) connections" }
                if let b = run.bytesPerEvent(.auto), let d = direct?.bytesPerEvent(.auto), d > 0 {
                    autoText += ", \(Say.bytes(b))/event against \(Say.bytes(d)) direct"
                }
                if let got = run.events(.auto), published > 0, got < published { autoText += " — and it received only \(Say.count(got)) of \(Int(published)) events" }
                parts.append(autoText)
            }
            return "\(run.label): " + parts.joined(separator: "; ") + "."
        }
    }

    /// Heartbeats against an idle timeout: the runs that differ only in the heartbeat.
    static let heartbeatAgainstIdle = NoticeRule("heartbeat-idle") { runs in
        let idle = runs.filter { $0.settings.via?.contains("--idle-timeout") == true }
        guard idle.count == 2 else { return [] }
        func cuts(_ run: LessonRun) -> Double { [RaceTransport.sse, .ws].compactMap { run.reconnects($0) }.reduce(0, +) }
        let (a, b) = (idle[0], idle[1])
        let (ca, cb) = (cuts(a), cuts(b))
        if ca == cb {
            return ["With and without heartbeats the idle timeout cut the streams as often (\(Say.count(ca)) reconnections each): the silences were shorter than the timeout, or the heartbeat longer."]
        }
        let (quiet, kept) = ca > cb ? (a, b) : (b, a)
        return ["The idle timeout cut SSE and WebSocket \(Say.count(max(ca, cb))) times in \"\(quiet.label)\" and \(Say.count(min(ca, cb))) times in \"\(kept.label)\": a heartbeat (SSE `: hb`, WebSocket ping) is traffic, so the box never sees the connection idle. Events were resumed either way (missed: \(Say.count(quiet.missed(.sse) ?? 0)) for SSE)."]
    }

    // MARK: lesson 11, reconnect storms

    static let nothingMissed = NoticeRule("nothing-missed") { runs in
        let missed = runs.flatMap { run in run.settings.transports.map { (run.label, $0, run.missed($0) ?? 0, run.duplicates($0) ?? 0) } }
        let bad = missed.filter { $0.2 > 0 || $0.3 > 0 }
        if bad.isEmpty {
            let n = runs.compactMap { $0.reconnects(.ws) }.reduce(0, +)
            return ["Nothing was missed and nothing duplicated in any run, through \(Say.count(n)) reconnections in all: each client resumed with since= (PROTOCOL.md §8)."]
        }
        return ["Missed or duplicated events: " + bad.map { "\($0.0) \($0.1.rawValue) missed \(Say.round1($0.2)), duplicates \(Say.round1($0.3))" }.joined(separator: "; ") + " — resuming did not cover every drop."]
    }

    static let storm = NoticeRule("storm") { runs in
        let t = RaceTransport.ws
        let rows = runs.compactMap { run -> (String, Int, Int, Double?)? in
            guard let perSecond = run.peakConnectsPerSecond(t) else { return nil }
            let per100 = run.connects(t).max() ?? 0
            return (run.label, perSecond, per100, run.reconnectMillis(t, percentile: 90))
        }
        guard !rows.isEmpty else { return [] }
        var out = ["Peak connection attempts: " + rows.map { "\($0.0) \($0.2) in the busiest 100 ms (\($0.1) in the busiest second)" + ($0.3.map { ", 90 % back within \(Say.ms($0))" } ?? "") }.joined(separator: "; ") + "."]
        // Within one second: did any policy spread a wave past it?
        let clients = runs[0].settings.clients
        if rows.allSatisfy({ Double($0.1) >= 0.9 * Double(clients) }) {
            out.append("In its busiest second every policy saw at least 90 % of the \(clients) clients reconnect: none of them spread a wave beyond one second here.")
        } else if let low = rows.min(by: { $0.1 < $1.1 }) {
            out.append("\(low.0) spread its wave widest: \(low.1) of \(clients) clients in its busiest second.")
        }
        if let imm = rows.first(where: { $0.0 == "immediate" }), let jit = rows.first(where: { $0.0 == "jitter" }), imm.2 > 0 {
            let ratio = Double(jit.2) / Double(imm.2)
            let run = runs.first { $0.label == "immediate" }
            let wave = run?.waveMillis(t) ?? 0
            let why = "The backoff resets when an event arrives (at \(Say.round1(runs[0].settings.rate)) events/s, long before the next cut), so each cut finds every client's window back at 100 ms: a uniform draw in [0, 100 ms] (ReconnectPolicy.swift)"
                + (wave > 100 ? ", while even immediate's wave lasted about \(Int(wave)) ms — the time one client loop and the proxy take to open \(clients) connections — so a 100 ms window adds little to it." : ".")
            if ratio >= 1 {
                out.append("Jitter did not flatten the storm here: its busiest 100 ms held \(Say.percent(ratio)) of immediate's. " + why)
            } else if ratio > 0.5 {
                out.append("Jitter barely flattened the storm: its busiest 100 ms held \(Say.percent(ratio)) of immediate's. " + why)
            } else {
                out.append("Jitter flattened the storm: its busiest 100 ms held \(Say.percent(ratio)) of immediate's, because each client drew its delay at random instead of all reconnecting at once.")
            }
        }
        if let bo = rows.first(where: { $0.0 == "backoff" }), let imm = rows.first(where: { $0.0 == "immediate" }), imm.2 > 0 {
            let ratio = Double(bo.2) / Double(imm.2)
            out.append(ratio > 0.5
                ? "Backoff without jitter moved the storm, not its height (\(Say.percent(ratio)) of immediate's peak): every client waited the same 100 ms and arrived together (a wave that straddles two 100 ms buckets looks lower than it is: compare the busiest second)."
                : "Backoff alone lowered the peak to \(Say.percent(ratio)) of immediate's.")
        }
        return out
    }
}
