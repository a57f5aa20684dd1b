// Charts as SVG, written by hand (no packages): a line chart (value against a swept setting)
// and a grouped bar chart (latency percentiles per transport). Large type, so they read on a
// projector; one colour per transport, the same on every chart.
import Foundation

public enum SVGChart {
    static let width = 860.0, height = 500.0
    static let left = 90.0, right = 170.0, top = 60.0, bottom = 70.0
    static let colours = ["poll": "#d1495b", "longpoll": "#edae49", "sse": "#00798c", "ws": "#30638e",
                          "auto": "#6a4c93",
                          "POST /publish": "#d1495b", "WebSocket /echo": "#30638e",
                          // reconnect policies (lesson 11's storm chart)
                          "immediate": "#d1495b", "backoff": "#edae49", "jitter": "#00798c"]

    static func colour(_ name: String) -> String { colours[name] ?? "#555555" }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    static func number(_ v: Double) -> String {
        if v >= 1000 { return String(Int(v.rounded())) }
        if v >= 10 { return String(Int(v.rounded())) }
        if v >= 1 { return String(Double(Int(v * 10)) / 10) }
        return String(Double(Int(v * 100)) / 100)
    }

    /// Ticks for an axis: powers of ten on a log axis, five steps on a linear one.
    static func ticks(_ lo: Double, _ hi: Double, log: Bool) -> [Double] {
        if log {
            var out: [Double] = []
            var t = pow(10, floor(log10(lo)))
            while t <= hi * 1.0001 { if t >= lo * 0.9999 { out.append(t) }; t *= 10 }
            return out.isEmpty ? [lo, hi] : out
        }
        return (0...5).map { lo + (hi - lo) * Double($0) / 5 }
    }

    /// Lines of y against x, one per series.
    public static func lineChart(title: String, xLabel: String, yLabel: String, xLog: Bool, yLog: Bool,
                                 series: [(name: String, points: [(x: Double, y: Double)])]) -> String {
        let all = series.flatMap { $0.points }.filter { (!xLog || $0.x > 0) && (!yLog || $0.y > 0) }
        guard !all.isEmpty else { return emptyChart(title) }
        var xLo = all.map { $0.x }.min()!, xHi = all.map { $0.x }.max()!
        var yLo = yLog ? all.map { $0.y }.min()! : 0, yHi = all.map { $0.y }.max()!
        if xLog { xLo = pow(10, floor(log10(xLo))); xHi = pow(10, ceil(log10(xHi))) }
        if yLog { yLo = pow(10, floor(log10(yLo))); yHi = pow(10, ceil(log10(yHi))) } else { yHi *= 1.1 }
        if xHi == xLo { xHi = xLo + 1 }
        if yHi == yLo { yHi = yLo + 1 }
        let plotW = width - left - right, plotH = height - top - bottom
        func px(_ x: Double) -> Double { left + plotW * (xLog ? (log10(x) - log10(xLo)) / (log10(xHi) - log10(xLo)) : (x - xLo) / (xHi - xLo)) }
        func py(_ y: Double) -> Double { top + plotH * (1 - (yLog ? (log10(y) - log10(yLo)) / (log10(yHi) - log10(yLo)) : (y - yLo) / (yHi - yLo))) }
        var svg = header(title)
        svg += axes(xLabel: xLabel, yLabel: yLabel)
        for t in ticks(xLo, xHi, log: xLog) {
            svg += "<line x1=\"\(px(t))\" y1=\"\(top + plotH)\" x2=\"\(px(t))\" y2=\"\(top + plotH + 6)\" stroke=\"#333\"/>"
            svg += "<text x=\"\(px(t))\" y=\"\(top + plotH + 26)\" text-anchor=\"middle\" font-size=\"16\">\(number(t))</text>\n"
        }
        for t in ticks(yLo, yHi, log: yLog) {
            svg += "<line x1=\"\(left)\" y1=\"\(py(t))\" x2=\"\(left + plotW)\" y2=\"\(py(t))\" stroke=\"#e5e5e5\"/>"
            svg += "<text x=\"\(left - 8)\" y=\"\(py(t) + 5)\" text-anchor=\"end\" font-size=\"16\">\(number(t))</text>\n"
        }
        for (i, s) in series.enumerated() {
            let pts = s.points.filter { (!xLog || $0.x > 0) && (!yLog || $0.y > 0) }
            guard !pts.isEmpty else { continue }
            let path = pts.map { "\(px($0.x)),\(py($0.y))" }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(colour(s.name))\" stroke-width=\"3\" points=\"\(path)\"/>\n"
            for p in pts { svg += "<circle cx=\"\(px(p.x))\" cy=\"\(py(p.y))\" r=\"5\" fill=\"\(colour(s.name))\"/>" }
            svg += legend(i, s.name)
        }
        return svg + "</svg>\n"
    }

    /// Groups of bars (one group per transport, one bar per label), on a log axis.
    public static func barChart(title: String, yLabel: String, labels: [String],
                                groups: [(name: String, values: [Double])]) -> String {
        let values = groups.flatMap { $0.values }.filter { $0 > 0 }
        guard !values.isEmpty else { return emptyChart(title) }
        let yLo = pow(10, floor(log10(values.min()!))), yHi = pow(10, ceil(log10(values.max()!)))
        let plotW = width - left - right, plotH = height - top - bottom
        func py(_ y: Double) -> Double { top + plotH * (1 - (log10(max(y, yLo)) - log10(yLo)) / max(1e-9, log10(yHi) - log10(yLo))) }
        var svg = header(title) + axes(xLabel: "", yLabel: yLabel)
        for t in ticks(yLo, yHi, log: true) {
            svg += "<line x1=\"\(left)\" y1=\"\(py(t))\" x2=\"\(left + plotW)\" y2=\"\(py(t))\" stroke=\"#e5e5e5\"/>"
            svg += "<text x=\"\(left - 8)\" y=\"\(py(t) + 5)\" text-anchor=\"end\" font-size=\"16\">\(number(t))</text>\n"
        }
        let groupW = plotW / Double(max(1, groups.count))
        let barW = groupW * 0.8 / Double(max(1, labels.count))
        for (g, group) in groups.enumerated() {
            let x0 = left + groupW * Double(g) + groupW * 0.1
            for (k, v) in group.values.enumerated() where v > 0 {
                let x = x0 + barW * Double(k)
                let opacity = 1.0 - 0.25 * Double(k)
                svg += "<rect x=\"\(x)\" y=\"\(py(v))\" width=\"\(barW - 2)\" height=\"\(top + plotH - py(v))\" fill=\"\(colour(group.name))\" fill-opacity=\"\(opacity)\"><title>\(escape(group.name)) \(labels[k]): \(number(v))</title></rect>"
                svg += "<text x=\"\(x + barW / 2)\" y=\"\(py(v) - 6)\" text-anchor=\"middle\" font-size=\"13\">\(number(v))</text>\n"
            }
            svg += "<text x=\"\(x0 + groupW * 0.4)\" y=\"\(top + plotH + 26)\" text-anchor=\"middle\" font-size=\"18\">\(escape(group.name))</text>\n"
        }
        for (k, label) in labels.enumerated() {
            let y = top + 24 * Double(k) + 10
            svg += "<rect x=\"\(width - right + 20)\" y=\"\(y - 12)\" width=\"16\" height=\"16\" fill=\"#555\" fill-opacity=\"\(1.0 - 0.25 * Double(k))\"/>"
            svg += "<text x=\"\(width - right + 44)\" y=\"\(y + 2)\" font-size=\"16\">\(escape(label))</text>\n"
        }
        return svg + "</svg>\n"
    }

    static func header(_ title: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\">\n"
            + "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
            + "<text x=\"\(width / 2)\" y=\"34\" text-anchor=\"middle\" font-size=\"22\" font-weight=\"bold\">\(escape(title))</text>\n"
    }

    static func axes(xLabel: String, yLabel: String) -> String {
        let plotH = height - top - bottom
        return "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(top + plotH)\" stroke=\"#333\"/>"
            + "<line x1=\"\(left)\" y1=\"\(top + plotH)\" x2=\"\(width - right)\" y2=\"\(top + plotH)\" stroke=\"#333\"/>\n"
            + "<text x=\"\((left + width - right) / 2)\" y=\"\(height - 14)\" text-anchor=\"middle\" font-size=\"18\">\(escape(xLabel))</text>\n"
            + "<text x=\"22\" y=\"\(top + plotH / 2)\" text-anchor=\"middle\" font-size=\"18\" transform=\"rotate(-90 22 \(top + plotH / 2))\">\(escape(yLabel))</text>\n"
    }

    static func legend(_ i: Int, _ name: String) -> String {
        let y = top + 26 * Double(i) + 10
        return "<line x1=\"\(width - right + 20)\" y1=\"\(y)\" x2=\"\(width - right + 50)\" y2=\"\(y)\" stroke=\"\(colour(name))\" stroke-width=\"4\"/>"
            + "<text x=\"\(width - right + 58)\" y=\"\(y + 6)\" font-size=\"18\">\(escape(name))</text>\n"
    }

    static func emptyChart(_ title: String) -> String {
        header(title) + "<text x=\"\(width / 2)\" y=\"\(height / 2)\" text-anchor=\"middle\" font-size=\"18\">no data</text></svg>\n"
    }
}
