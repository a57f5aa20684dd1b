// The four ways to print a race (PROTOCOL.md §4 --format): an aligned table for the terminal,
// Markdown (for a lesson's README), CSV (one row per transport, §5 names flattened) and JSON
// ({"scenario":{...},"results":[...]} with §5 names, latency as an object).
import Foundation

public enum RaceReport {
    /// The §5 columns flattened, in order (the CSV header), plus `clients` and `connect_ms`.
    public static let csvColumns = [
        "transport", "clients", "events", "missed", "duplicates",
        "latency_ms_p50", "latency_ms_p95", "latency_ms_p99", "latency_ms_max", "latency_ms_mean",
        "requests", "connections", "empty_responses", "bytes_up", "bytes_down",
        "wire_bytes_up", "wire_bytes_down", "bytes_per_event", "connect_ms",
        "reconnects", "reconnect_ms_p50", "reconnect_ms_p99", "out_of_order", "path", "first_event_ms",
    ]

    public static func render(_ r: RaceResult, as format: RaceFormat) -> String {
        switch format {
        case .table: return table(r)
        case .markdown: return markdown(r)
        case .csv: return csv(r)
        case .json: return json(r) + "\n"
        }
    }

    // MARK: JSON

    public static func jsonValue(_ r: RaceResult) -> JSONValue {
        var scenario = r.settings.scenarioObject.filter { $0.0 != "format" }
        scenario += [("server", .string(r.server)), ("clock", .string(r.clock)),
                     ("first_id", .number(Double(r.firstID))), ("last_id", .number(Double(r.lastID))),
                     ("published", .number(Double(r.published))), ("elapsed_s", .number(r.elapsed)),
                     ("started_at_us", .number(Double(r.startedAtMicros))), ("ended_at_us", .number(Double(r.endedAtMicros)))]
        let results: [JSONValue] = r.results.map { t in
            let latency: JSONValue = t.latency.map {
                .object([("p50", .number($0.p50)), ("p95", .number($0.p95)), ("p99", .number($0.p99)),
                         ("max", .number($0.max)), ("mean", .number($0.mean))])
            } ?? .null
            var fields: [(String, JSONValue)] = [
                ("transport", .string(t.transport.rawValue)), ("clients", .number(Double(t.clients))),
                ("events", .number(t.events)), ("missed", .number(t.missed)), ("duplicates", .number(t.duplicates)),
                ("latency_ms", latency),
                ("requests", .number(Double(t.requests))), ("connections", .number(Double(t.connections))),
                ("empty_responses", .number(Double(t.emptyResponses))),
                ("bytes_up", .number(Double(t.bytesUp))), ("bytes_down", .number(Double(t.bytesDown))),
                ("wire_bytes_up", .number(Double(t.wireBytesUp))), ("wire_bytes_down", .number(Double(t.wireBytesDown))),
                ("bytes_per_event", t.bytesPerEvent.map { .number($0) } ?? .null),
                ("connect_ms", .number(t.connectMillis)),
                ("reconnects", .number(Double(t.reconnects))),
                ("reconnect_ms", t.reconnectLatency.map { .object([("p50", .number($0.p50)), ("p99", .number($0.p99))]) } ?? .null),
                ("out_of_order", .number(t.outOfOrder)),
                ("path", .string(t.path)),
                ("first_event_ms", t.firstEventMillis.map { .number($0) } ?? .null),
                ("connects_per_100ms", .array(t.connectsPer100ms.map { .number(Double($0)) })),
                ("wire_bytes_per_event", t.wireBytesPerEvent.map { .number($0) } ?? .null),
                ("ledger", ledgerValue(t.ledger)),
                ("ledger_per_event", t.ledgerPerEvent.map { ledgerValue($0) } ?? .null),
            ]
            if t.transport == .auto {
                fields.append(("paths", .object(t.paths.sorted { $0.key < $1.key }.map { ($0.key, .number(Double($0.value))) })))
            }
            if !t.failures.isEmpty { fields.append(("errors", .array(Array(Set(t.failures)).sorted().prefix(5).map { .string($0) }))) }
            return .object(fields)
        }
        var top: [(String, JSONValue)] = [("scenario", .object(scenario)), ("results", .array(results))]
        if let check = r.serverCheck {
            var fields: [(String, JSONValue)] = [("agrees", .bool(check.agrees)),
                                                 ("differences", .array(check.differences.map { .string($0) }))]
            if let note = check.note { fields += [("expected", .bool(check.expected)), ("note", .string(note))] }
            top.append(("server_check", .object(fields)))
        }
        if let line = r.proxyReport, let value = try? JSONDecoder().decode(JSONValue.self, from: Data(line.utf8)) {
            top.append(("proxy", value))
        }
        return .object(top)
    }

    public static func json(_ r: RaceResult) -> String { jsonValue(r).text }

    /// {"handshake":..,"headers":..,"framing":..,"payload":..,"heartbeats":..,"tcpip":..,"total":..}
    static func ledgerValue(_ l: ByteLedger) -> JSONValue {
        .object(l.parts.map { ($0.0, .number($0.1)) } + [("total", .number(l.total))])
    }

    // MARK: CSV

    public static func csv(_ r: RaceResult) -> String {
        var out = csvColumns.joined(separator: ",") + "\n"
        for t in r.results {
            let l = t.latency
            let cells: [String] = [
                t.transport.rawValue, String(t.clients), JSONValue.format(t.events), JSONValue.format(t.missed),
                JSONValue.format(t.duplicates),
                l.map { JSONValue.format($0.p50) } ?? "", l.map { JSONValue.format($0.p95) } ?? "",
                l.map { JSONValue.format($0.p99) } ?? "", l.map { JSONValue.format($0.max) } ?? "",
                l.map { JSONValue.format($0.mean) } ?? "",
                String(t.requests), String(t.connections), String(t.emptyResponses),
                String(t.bytesUp), String(t.bytesDown), String(t.wireBytesUp), String(t.wireBytesDown),
                t.bytesPerEvent.map { JSONValue.format($0) } ?? "", JSONValue.format(t.connectMillis),
                String(t.reconnects), t.reconnectLatency.map { JSONValue.format($0.p50) } ?? "",
                t.reconnectLatency.map { JSONValue.format($0.p99) } ?? "", JSONValue.format(t.outOfOrder),
                t.path, t.firstEventMillis.map { JSONValue.format($0) } ?? "",
            ]
            out += cells.joined(separator: ",") + "\n"
        }
        return out
    }

    // MARK: table and Markdown

    static let baseHeaders = ["transport", "events", "missed", "dup", "ooo", "p50 ms", "p95 ms", "p99 ms", "max ms", "mean ms",
                              "requests", "conns", "empty", "bytes up", "bytes down", "wire up", "wire down", "B/event",
                              "reconn", "rc p50 ms", "rc p99 ms"]
    /// Shown when an `auto` client raced: the path it took and its time to the first event.
    static let autoHeaders = ["path", "1st event ms"]

    static func headers(_ r: RaceResult) -> [String] {
        r.results.contains { $0.transport == .auto } ? baseHeaders + autoHeaders : baseHeaders
    }

    static func rows(_ r: RaceResult) -> [[String]] {
        let withAuto = r.results.contains { $0.transport == .auto }
        return r.results.map { t in
            let l = t.latency, rc = t.reconnectLatency
            func opt(_ v: Double?) -> String { v.map { ms($0) } ?? "-" }
            var row: [String] = [t.transport.rawValue, count(t.events), count(t.missed), count(t.duplicates), count(t.outOfOrder)]
            row += [opt(l?.p50), opt(l?.p95), opt(l?.p99), opt(l?.max), opt(l?.mean)]
            row += [String(t.requests), String(t.connections), String(t.emptyResponses)]
            row += [String(t.bytesUp), String(t.bytesDown), String(t.wireBytesUp), String(t.wireBytesDown)]
            row.append(t.bytesPerEvent.map { String(format: "%.1f", $0) } ?? "-")
            row += [String(t.reconnects), opt(rc?.p50), opt(rc?.p99)]
            if withAuto { row += [t.path, opt(t.firstEventMillis)] }
            return row
        }
    }

    static func headline(_ r: RaceResult) -> String {
        let s = r.settings
        let clients = s.clients == 1 ? "1 client" : "\(s.clients) clients"
        var line = "race: \(JSONValue.format(s.duration)) s, \(JSONValue.format(s.rate)) events/s, \(s.size)-byte data, \(clients) per transport, poll every \(JSONValue.format(s.pollInterval)) s"
        if r.server == "url" { line = line.replacingOccurrences(of: "\(JSONValue.format(s.rate)) events/s, \(s.size)-byte data, ", with: "") }
        line += "; server: \(r.server == "url" ? s.url ?? "" : r.server)"
        if let via = s.via { line += "; via wirelab proxy \(via)" }
        line += "; reconnect: \(s.reconnect.rawValue)"
        return line
    }

    static func footer(_ r: RaceResult) -> [String] {
        var lines = ["published \(r.published) events during the run (ids \(r.firstID)–\(r.lastID)); \(r.clock)"]
        if let c = r.serverCheck {
            if c.agrees {
                lines.append("server /stats agrees with these byte, request and connection counts, to the byte"
                             + (c.note.map { " (\($0))" } ?? ""))
            } else if !c.expected {
                lines.append("server /stats differs, as expected: \(c.note ?? "")")
            } else {
                lines.append("server /stats differs: " + c.differences.joined(separator: "; ") + (c.note.map { " (\($0))" } ?? ""))
            }
        }
        for t in r.results where !t.failures.isEmpty {
            let distinct = Array(Set(t.failures)).sorted()
            lines.append("\(t.transport.rawValue): \(t.failures.count) client(s) failed: \(distinct.prefix(3).joined(separator: "; "))")
        }
        if r.settings.clients > 1 {
            lines.append("events, missed, dup: per client (average); requests, bytes: all \(r.settings.clients) clients of a transport")
        }
        return lines
    }

    public static func table(_ r: RaceResult) -> String {
        let headers = headers(r)
        let all = [headers] + rows(r)
        var widths = headers.map { $0.count }
        for row in all { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        func line(_ row: [String]) -> String {
            row.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                return i == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }
        var out = headline(r) + "\n\n" + line(headers) + "\n"
        out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n"
        for row in rows(r) { out += line(row) + "\n" }
        out += "\n" + footer(r).joined(separator: "\n") + "\n"
        return out
    }

    public static func markdown(_ r: RaceResult) -> String {
        let headers = headers(r)
        var out = headline(r) + "\n\n"
        out += "| " + headers.joined(separator: " | ") + " |\n"
        out += "|" + headers.enumerated().map { i, _ in i == 0 ? " --- |" : " ---: |" }.joined() + "\n"
        for row in rows(r) { out += "| " + row.joined(separator: " | ") + " |\n" }
        out += "\n" + footer(r).map { $0 + "  " }.joined(separator: "\n") + "\n"
        return out
    }

    static func ms(_ v: Double) -> String { v < 100 ? String(format: "%.2f", v) : String(format: "%.1f", v) }

    /// Whole numbers as such; averages with the digits that matter (0.0003 stays visible).
    static func count(_ v: Double) -> String {
        if v == v.rounded() { return String(Int(v)) }
        if v >= 10 { return String(format: "%.1f", v) }
        return String(format: "%.3g", v)
    }
}
