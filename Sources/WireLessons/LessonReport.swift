// The lesson's results table: measured next to predicted, per transport.
import WireMeasure

enum LessonReport {
    static let columns = ["transport", "latency mean", "predicted", "bytes/event", "predicted", "requests", "predicted", "empty", "missed"]

    static func rows(_ run: LessonRun) -> [[String]] {
        run.result.results.map { r in
            let p = run.predictions[r.transport]
            return [
                r.transport.rawValue,
                r.latency.map { Say.ms($0.mean) } ?? "–",
                p.map { Say.ms($0.latencyMeanMs) } ?? "–",
                r.bytesPerEvent.map { Say.bytes($0) } ?? "–",
                p.map { Say.bytes($0.bytesPerEvent) } ?? "–",
                String(r.requests),
                p.map { String(Int($0.requests.rounded()) * r.clients) } ?? "–",
                String(r.emptyResponses),
                Say.round1(r.missed),
            ]
        }
    }

    /// Aligned text table.
    static func table(_ run: LessonRun) -> [String] {
        align([columns] + rows(run))
    }

    static func markdown(_ run: LessonRun) -> [String] {
        let all = [columns] + rows(run)
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
