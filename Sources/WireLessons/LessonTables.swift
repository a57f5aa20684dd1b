// `make tables`: rerun every lesson and write Lessons/results/ (Markdown, CSV, JSON, SVG), then
// put each lesson's table into its README between the results markers, stamped with the machine
// and the date, so every number in a README comes from a command anyone can rerun.
import Foundation
import WireMeasure

public enum LessonTables {
    /// Tables and charts for the runs of one lesson.
    static func results(_ lesson: Lesson, _ runs: [LessonRun], sweep: String? = nil) -> LessonResults {
        var out = LessonResults()
        out.runs = runs
        var csv = ""
        var json: [String] = []
        for run in runs {
            if !run.label.isEmpty { out.markdown += ["", "**\(run.label)**", ""] }
            out.markdown += LessonReport.markdown(run)
            var lines = RaceReport.csv(run.result).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if lines.last == "" { lines.removeLast() }
            if csv.isEmpty, let head = lines.first { csv = "run," + head + "\n" }
            for line in lines.dropFirst() { csv += "\"\(run.label)\"," + line + "\n" }
            let races = run.repeats.map { RaceReport.json($0).trimmingCharacters(in: .whitespacesAndNewlines) }
            json.append("{\"run\":\"\(run.label)\",\"race\":\(races[0]),\"repeats\":[" + races.joined(separator: ",") + "]}")
        }
        // The sentences, computed from these runs: the README's result bullets are these.
        out.notice = lesson.sentences(runs)
        if !out.notice.isEmpty { out.markdown += ["", "What to notice (computed from this run by `wirelab lesson \(lesson.number)`):", ""] + out.notice.map { "- " + $0 } }
        out.csv = csv
        out.json = "{\"lesson\":\(lesson.number),\"runs\":[" + json.joined(separator: ",") + "]}\n"
        out.charts = charts(runs, sweep: sweep)
        return out
    }

    static func charts(_ runs: [LessonRun], sweep: String?) -> [(name: String, svg: String)] {
        var charts: [(String, String)] = []
        let transports = RaceTransport.allCases.filter { t in runs.contains { $0.r(t) != nil } }
        if runs.count > 1, let sweepName = sweep {
            let xLabel = ["rate": "events per second", "clients": "clients per transport", "size": "bytes of data per event"][sweepName]!
            func x(_ run: LessonRun) -> Double {
                switch sweepName {
                case "rate": return run.result.settings.rate
                case "clients": return Double(run.result.settings.clients)
                default: return Double(run.result.settings.size)
                }
            }
            let bytes = transports.map { t in (t.rawValue, runs.compactMap { r in r.bytesPerEvent(t).map { (x(r), $0) } }) }
            charts.append(("bytes-per-event", SVGChart.lineChart(title: "Bytes on the wire per event", xLabel: xLabel,
                                                                 yLabel: "bytes per event", xLog: true, yLog: true, series: bytes)))
            let latency = transports.map { t in (t.rawValue, runs.compactMap { r in r.latencyMedian(t).map { (x(r), max($0, 0.01)) } }) }
            charts.append(("latency", SVGChart.lineChart(title: "Mean latency (median over clients and runs)", xLabel: xLabel, yLabel: "ms",
                                                         xLog: true, yLog: true, series: latency)))
        }
        // A reconnect storm: connection attempts per 100 ms around the first wave of each run
        // (from 300 ms before its first reconnect to 1.5 s after), one line per run.
        let storms = runs.filter { $0.crossedAMiddlebox && $0.settings.clients >= 100 }
        if !storms.isEmpty {
            let series = storms.flatMap { run in
                run.result.results.map { r -> (String, [(Double, Double)]) in
                    let c = r.connectsPer100ms
                    let first = c.firstIndex { $0 > 0 } ?? 0
                    // The series ends at its last attempt; the run went on, with none.
                    let end = max(c.count, Int(run.result.elapsed * 10))
                    let window = max(0, first - 3)..<min(end, first + 16)
                    return ((run.settings.transports.count > 1 ? r.transport.rawValue + " " : "") + run.label,
                            window.map { (Double($0 - first) * 100, Double($0 < c.count ? c[$0] : 0)) })
                }
            }
            charts.append(("connects-per-100ms", SVGChart.lineChart(title: "Connection attempts per 100 ms after the cut", xLabel: "ms from the first reconnect (100 ms buckets)",
                                                                    yLabel: "attempts per 100 ms", xLog: false, yLog: false, series: series)))
        }
        if let run = runs.last {
            let groups = transports.compactMap { t -> (String, [Double])? in
                guard let l = run.r(t)?.latency else { return nil }
                return (t.rawValue, [l.p50, l.p95, l.p99, l.max].map { max($0, 0.01) })
            }
            charts.append(("latency-distribution", SVGChart.barChart(title: "Latency per transport\(run.label.isEmpty ? "" : " (\(run.label))")",
                                                                      yLabel: "ms (log scale)", labels: ["p50", "p95", "p99", "max"], groups: groups)))
        }
        return charts
    }

    /// Writes Lessons/results/NN-slug.{md,csv,json} and NN-slug-<chart>.svg, and the README block.
    public static func write(_ lesson: Lesson, _ results: LessonResults, directory: String, stamp: String) throws {
        let fm = FileManager.default
        let resultsDir = directory + "/results"
        try fm.createDirectory(atPath: resultsDir, withIntermediateDirectories: true)
        let base = resultsDir + "/" + lesson.folder
        var md = ["# Lesson \(lesson.number): \(lesson.title) — results", "", "_\(stamp)_", ""] + results.markdown
        for chart in results.charts {
            let file = lesson.folder + "-" + chart.name + ".svg"
            try chart.svg.write(toFile: resultsDir + "/" + file, atomically: true, encoding: .utf8)
            md += ["", "![\(chart.name)](\(file))"]
        }
        try (md.joined(separator: "\n") + "\n").write(toFile: base + ".md", atomically: true, encoding: .utf8)
        try results.csv.write(toFile: base + ".csv", atomically: true, encoding: .utf8)
        try results.json.write(toFile: base + ".json", atomically: true, encoding: .utf8)

        // The README's block between the markers.
        let readme = directory + "/" + lesson.folder + "/README.md"
        guard let text = try? String(contentsOfFile: readme, encoding: .utf8),
              let start = text.range(of: "<!-- results:start -->"), let end = text.range(of: "<!-- results:end -->") else { return }
        var block = ["", "_\(stamp)_", ""] + results.markdown
        for chart in results.charts { block += ["", "![\(chart.name)](../results/\(lesson.folder)-\(chart.name).svg)"] }
        block += ["", "CSV and JSON: [`Lessons/results/\(lesson.folder).csv`](../results/\(lesson.folder).csv), [`.json`](../results/\(lesson.folder).json).", ""]
        let updated = String(text[..<start.upperBound]) + block.joined(separator: "\n") + String(text[end.lowerBound...])
        try updated.write(toFile: readme, atomically: true, encoding: .utf8)
    }

    /// "Reference run: 2026-11-22, Linux x86_64, 2 cores, wirelab race in-process on loopback."
    public static func stamp() -> String {
        var uts = utsname()
        uname(&uts)
        let machine = withUnsafeBytes(of: &uts.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let system = withUnsafeBytes(of: &uts.sysname) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd"
        formatter.timeZone = TimeZone(identifier: "UTC")
        return "Reference run: \(formatter.string(from: Date())), \(system) \(machine), \(cores) cores, loopback; regenerate with `make tables`."
    }
}
