// One configuration of a lesson, measured: every run of it (a lesson may repeat a configuration)
// and the model's prediction. The tables and the "what to notice" sentences read it through the
// summaries below, never through one run alone:
//  - latency: each client's mean, over every client of every run; the table shows the median
//    and the spread (lowest–highest). p99 is shown only with at least 100 samples (finding 11:
//    the p99 of 10 samples is the maximum).
//  - bytes: totals over the runs divided by the events delivered, so a short run's handshake
//    weighs what it weighed.
import WireMeasure

public struct LessonRun {
    public var label: String
    /// The first run (what `lesson --predict` reads).
    public var result: RaceResult
    public var predictions: [RaceTransport: Prediction]
    /// Every run of this configuration (result is the first).
    public var repeats: [RaceResult]

    public init(label: String, result: RaceResult, predictions: [RaceTransport: Prediction], repeats: [RaceResult]? = nil) {
        self.label = label
        self.result = result
        self.predictions = predictions
        self.repeats = repeats ?? [result]
    }

    public var settings: RaceSettings { result.settings }
    func r(_ t: RaceTransport) -> TransportResult? { result.result(t) }
    func all(_ t: RaceTransport) -> [TransportResult] { repeats.compactMap { $0.result(t) } }

    /// Per-client mean latencies (ms) over every run.
    func latencySamples(_ t: RaceTransport) -> [Double] {
        all(t).flatMap { $0.perClient.compactMap { $0.latencyMeanMs } }
    }
    func latencyMedian(_ t: RaceTransport) -> Double? { Stat.median(latencySamples(t)) }
    func latencySpread(_ t: RaceTransport) -> (low: Double, high: Double)? {
        let v = latencySamples(t)
        guard let lo = v.min(), let hi = v.max() else { return nil }
        return (lo, hi)
    }
    /// Every first receipt of every run in one histogram.
    func histogram(_ t: RaceTransport) -> LatencyHistogram {
        var h = LatencyHistogram()
        for r in all(t) { h.merge(r.histogram) }
        return h
    }
    /// p99, only when there are at least 100 samples behind it.
    func p99(_ t: RaceTransport) -> Double? {
        let h = histogram(t)
        guard h.count >= 100, let s = LatencySummary(h) else { return nil }
        return s.p99
    }

    func delivered(_ t: RaceTransport) -> Double { all(t).reduce(0) { $0 + $1.events * Double($1.clients) } }
    /// Totals over the runs.
    func totals(_ t: RaceTransport) -> ClientCounts? {
        let rs = all(t)
        return rs.isEmpty ? nil : rs.dropFirst().reduce(rs[0].totals) { $0 + $1.totals }
    }
    func bytesPerEvent(_ t: RaceTransport) -> Double? {
        guard let c = totals(t), delivered(t) > 0 else { return nil }
        return Double(c.bytesUp + c.bytesDown) / delivered(t)
    }
    func wireBytesPerEvent(_ t: RaceTransport) -> Double? {
        guard let c = totals(t), delivered(t) > 0 else { return nil }
        return Double(c.wireBytesUp + c.wireBytesDown) / delivered(t)
    }
    func ledgerPerEvent(_ t: RaceTransport) -> ByteLedger? {
        guard let c = totals(t), delivered(t) > 0 else { return nil }
        return c.ledger.divided(by: delivered(t))
    }
    /// Per-run bytes per event, for the spread.
    func bytesSpread(_ t: RaceTransport) -> (low: Double, high: Double)? {
        let v = all(t).compactMap { $0.bytesPerEvent }
        guard let lo = v.min(), let hi = v.max() else { return nil }
        return (lo, hi)
    }
    /// Medians over runs of the counts.
    func requests(_ t: RaceTransport) -> Double? { Stat.median(all(t).map { Double($0.requests) }) }
    func connections(_ t: RaceTransport) -> Double? { Stat.median(all(t).map { Double($0.connections) }) }
    func empty(_ t: RaceTransport) -> Double? { Stat.median(all(t).map { Double($0.emptyResponses) }) }
    func events(_ t: RaceTransport) -> Double? { Stat.median(all(t).map { $0.events }) }
    func missed(_ t: RaceTransport) -> Double? { Stat.median(all(t).map { $0.missed }) }
    func duplicates(_ t: RaceTransport) -> Double? { Stat.median(all(t).map { $0.duplicates }) }
    var elapsed: Double { Stat.median(repeats.map { $0.elapsed }) ?? settings.duration }
}

enum Stat {
    static func median(_ v: [Double]) -> Double? {
        guard !v.isEmpty else { return nil }
        let s = v.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// Least-squares line y = a + b·x and its R² (1 = the points lie on the line).
    static func linearFit(_ points: [(Double, Double)]) -> (a: Double, b: Double, r2: Double)? {
        guard points.count >= 3 else { return nil }
        let n = Double(points.count)
        let mx = points.map(\.0).reduce(0, +) / n, my = points.map(\.1).reduce(0, +) / n
        let sxx = points.reduce(0) { $0 + ($1.0 - mx) * ($1.0 - mx) }
        let sxy = points.reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) }
        let syy = points.reduce(0) { $0 + ($1.1 - my) * ($1.1 - my) }
        guard sxx > 0 else { return nil }
        let b = sxy / sxx
        return (my - b * mx, b, syy > 0 ? (sxy * sxy) / (sxx * syy) : 1)
    }
}
