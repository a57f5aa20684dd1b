// The lesson's results tables: measured next to predicted (each prediction with its bound), per
// transport, and the byte ledger of one event (LessonRun.swift says how runs are summarized).
import WireMeasure

enum LessonReport {
    static let columns = ["transport", "latency mean", "spread", "predicted", "p99", "bytes/event", "predicted",
                          "wire B/event", "predicted", "requests", "predicted", "empty", "missed"]

    static func rows(_ run: LessonRun) -> [[String]] {
        run.result.results.map { r in
            let t = r.transport
            let p = run.predictions[t]
            return [
                t.rawValue,
                run.latencyMedian(t).map { Say.ms($0) } ?? "–",
                run.latencySpread(t).map { "\(Say.ms($0.low))–\(Say.ms($0.high))" } ?? "–",
                p.map { Say.bounded($0.latency, Say.ms) } ?? "–",
                run.p99(t).map { Say.ms($0) } ?? "–",
                run.bytesPerEvent(t).map { Say.bytes($0) } ?? "–",
                p.map { Say.bounded($0.bytes, Say.bytes) } ?? "–",
                run.wireBytesPerEvent(t).map { Say.bytes($0) } ?? "–",
                p.map { Say.bounded($0.wireBytes, Say.bytes) } ?? "–",
                run.requests(t).map { Say.count($0) } ?? "–",
                p.map { String(Int($0.requests.rounded()) * r.clients) } ?? "–",
                run.empty(t).map { Say.count($0) } ?? "–",
                run.missed(t).map { Say.round1($0) } ?? "–",
            ]
        }
    }

    static let ledgerColumns = ["per event", "handshake", "headers", "framing", "payload", "heartbeats", "TCP/IP", "= wire total"]

    /// Where the bytes of one event went (the byte ledger), measured; the parts sum to the total.
    static func ledgerRows(_ run: LessonRun) -> [[String]] {
        run.result.results.compactMap { r in
            guard let l = run.ledgerPerEvent(r.transport) else { return nil }
            return [r.transport.rawValue] + l.parts.map { Say.bytes1($0.1) } + [Say.bytes1(l.total)]
        }
    }

    static func table(_ run: LessonRun) -> [String] {
        var out = align([columns] + rows(run))
        out.append(footnote(run))
        return out
    }

    static func ledgerTable(_ run: LessonRun) -> [String] {
        let rows = ledgerRows(run)
        return rows.isEmpty ? [] : align([ledgerColumns] + rows)
    }

    static func footnote(_ run: LessonRun) -> String {
        let samples = run.result.results.map { run.latencySamples($0.transport).count }.max() ?? 0
        return "latency: median of \(samples) client mean(s) over \(run.repeats.count) run(s) of \(JSONNumber.text(run.elapsed.rounded())) s; spread lowest–highest; p99 only from ≥ 100 samples. "
            + "Headers: \(run.settings.headers == .minimal ? "minimal client" : "Chromium's")."
    }

    static func markdown(_ run: LessonRun) -> [String] {
        md([columns] + rows(run)) + ["", "_" + footnote(run) + "_", ""] + md([ledgerColumns] + ledgerRows(run)) + survivalMarkdown(run)
    }

    static func md(_ all: [[String]]) -> [String] {
        guard all.count > 1 else { return [] }
        var out = ["| " + all[0].joined(separator: " | ") + " |",
                   "|" + all[0].map { _ in " --- " }.joined(separator: "|") + "|"]
        for row in all.dropFirst() { out.append("| " + row.joined(separator: " | ") + " |") }
        return out
    }

    static func align(_ rows: [[String]]) -> [String] {
        var widths = [Int](repeating: 0, count: rows[0].count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        return rows.enumerated().flatMap { (index, row) -> [String] in
            let line = row.enumerated().map { i, cell in
                i == 0 ? cell.padding(widths[i]) : String(repeating: " ", count: widths[i] - cell.count) + cell
            }.joined(separator: "  ")
            return index == 0 ? [line, String(repeating: "─", count: line.count)] : [line]
        }
    }
}

extension String {
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
}
