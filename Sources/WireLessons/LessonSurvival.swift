// What a bad network cost the clients of one run (lessons 10 and 11, PROTOCOL.md §8): the path an
// auto client took, reconnections, the time from a drop to the first event after it, and the
// reconnect storm in `connects_per_100ms` — its peak (connection attempts in the busiest second)
// and how long until 90 % of the outages were over. Read by the tables, the sentences and the
// storm chart; shown only for runs that went through a proxy or a middlebox.
import WireMeasure

extension LessonRun {
    /// The run crossed something in between (`--via` or a real middlebox).
    var crossedAMiddlebox: Bool { settings.via != nil || settings.clientURL != nil }

    /// Whether the survival table says anything: an auto client, a reconnect or a failure.
    var showsSurvival: Bool {
        crossedAMiddlebox && (settings.transports.contains(.auto) || result.results.contains { $0.reconnects > 0 || !$0.failures.isEmpty })
    }

    /// Connection attempts per 100 ms, summed over the repeats of the first run (x: s).
    func connects(_ t: RaceTransport) -> [Int] { r(t)?.connectsPer100ms ?? [] }

    /// The most connection attempts in any one second (10 consecutive buckets).
    func peakConnectsPerSecond(_ t: RaceTransport) -> Int? {
        let c = connects(t)
        guard !c.isEmpty else { return nil }
        var best = 0, window = 0
        for (i, n) in c.enumerated() {
            window += n
            if i >= 10 { window -= c[i - 10] }
            best = max(best, window)
        }
        return best
    }

    /// The longest quiet-to-busy burst of attempts: the second with the most attempts divided
    /// by the clients — 1.0 when every client reconnected within the same second.
    func peakShare(_ t: RaceTransport) -> Double? {
        guard let p = peakConnectsPerSecond(t), let r = r(t), r.clients > 0 else { return nil }
        return Double(p) / Double(r.clients)
    }

    /// How long the busiest wave of connection attempts lasted (ms): the consecutive 100 ms
    /// buckets around the busiest one that hold at least 1 % of the clients each.
    func waveMillis(_ t: RaceTransport) -> Double? {
        let c = connects(t)
        guard let peak = c.indices.max(by: { c[$0] < c[$1] }), let r = r(t) else { return nil }
        let floor = max(1, r.clients / 100)
        var lo = peak, hi = peak
        while lo > 0 && c[lo - 1] >= floor { lo -= 1 }
        while hi + 1 < c.count && c[hi + 1] >= floor { hi += 1 }
        return Double(hi - lo + 1) * 100
    }

    /// Drop to first event after it, ms, at a percentile, over every outage of every repeat.
    func reconnectMillis(_ t: RaceTransport, percentile p: Double) -> Double? {
        var h = LatencyHistogram()
        for r in all(t) { h.merge(r.reconnectHistogram) }
        return h.value(atPercentile: p).map { Double($0) / 1000 }
    }

    func reconnects(_ t: RaceTransport) -> Double? { Stat.median(all(t).map { Double($0.reconnects) }) }
    func path(_ t: RaceTransport) -> String? { r(t)?.path }
    func firstEventMillis(_ t: RaceTransport) -> Double? { Stat.median(all(t).compactMap { $0.firstEventMillis }) }
}

extension LessonReport {
    static let survivalColumns = ["transport", "path", "events", "missed", "reconnects", "back p50", "back p90",
                                  "1st event", "connections", "requests", "B/event", "peak connects/s"]

    static func survivalRows(_ run: LessonRun) -> [[String]] {
        run.result.results.map { r in
            let t = r.transport
            return [t.rawValue, run.path(t) ?? "–",
                    run.events(t).map { Say.count($0) } ?? "–",
                    run.missed(t).map { Say.round1($0) } ?? "–",
                    run.reconnects(t).map { Say.count($0) } ?? "–",
                    run.reconnectMillis(t, percentile: 50).map { Say.ms($0) } ?? "–",
                    run.reconnectMillis(t, percentile: 90).map { Say.ms($0) } ?? "–",
                    run.firstEventMillis(t).map { Say.ms($0) } ?? "–",
                    run.connections(t).map { Say.count($0) } ?? "–",
                    run.requests(t).map { Say.count($0) } ?? "–",
                    run.bytesPerEvent(t).map { Say.bytes($0) } ?? "–",
                    run.peakConnectsPerSecond(t).map { String($0) } ?? "–"]
        }
    }

    static let survivalFootnote = "events and missed: per client; back p50/p90: ms from a drop to the first event after it (PROTOCOL.md §8 reconnect_ms), over every drop; 1st event: ms from the first connect to the first event (median client); peak connects/s: connection attempts in the busiest second after the start (reconnections: the first connects come before the run starts)."

    static func survivalTable(_ run: LessonRun) -> [String] {
        guard run.showsSurvival else { return [] }
        return align([survivalColumns] + survivalRows(run)) + [survivalFootnote]
    }

    static func survivalMarkdown(_ run: LessonRun) -> [String] {
        guard run.showsSurvival else { return [] }
        return ["", "What the network cost:", ""] + md([survivalColumns] + survivalRows(run)) + ["", "_" + survivalFootnote + "_"]
    }
}
