// `wirelab race`: the transports side by side (PROTOCOL.md §4, §5). Parsing and printing only;
// the race itself is WireMeasure.Race.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import WireMeasure

enum RaceCommand {
    static let command = Command(
        name: "race",
        summary: "wirelab race — short polling, long polling, SSE and WebSocket side by side on one event stream.",
        usage: "wirelab race [--url URL] [--transports poll,longpoll,sse,ws,auto] [--duration 10] [--rate 2] [--size 64] [--clients 1] [--poll-interval 1] [--via \"PROXY FLAGS\"] [--reconnect immediate|backoff|jitter] [--fallback-after 1000] [--headers minimal|browser] [--format table|markdown|csv|json] [--output FILE] [--scenario FILE] [--clock auto|estimate] [--quiet]",
        options: [
            Option(name: "url", kind: .string, valueName: "URL", defaultValue: nil, help: "measure this server (http://HOST:PORT); default: start our own"),
            Option(name: "transports", kind: .list(RaceTransport.allCases.map(\.rawValue)), valueName: "LIST", defaultValue: "poll,longpoll,sse,ws", help: "which transports to race"),
            Option(name: "duration", kind: .number(RaceSettings.durationRange), valueName: "S", defaultValue: "10", help: "seconds of measurement, fractional allowed"),
            Option(name: "rate", kind: .number(RaceSettings.rateRange), valueName: "R", defaultValue: "2", help: "events per second of our own server"),
            Option(name: "size", kind: .integer(RaceSettings.sizeRange), valueName: "B", defaultValue: "64", help: "data characters per event of our own server"),
            Option(name: "clients", kind: .integer(RaceSettings.clientsRange), valueName: "N", defaultValue: "1", help: "clients per transport"),
            Option(name: "poll-interval", kind: .number(RaceSettings.pollIntervalRange), valueName: "S", defaultValue: "1", help: "seconds between short polls"),
            Option(name: "via", kind: .string, valueName: "\"FLAGS\"", defaultValue: nil, help: "send the clients through `wirelab proxy FLAGS` (e.g. \"--delay 50 --cut-every 2\")"),
            Option(name: "reconnect", kind: .choice(ReconnectKind.allCases.map(\.rawValue)), valueName: "POLICY", defaultValue: "jitter", help: "after a drop: at once, capped exponential backoff, or backoff with full jitter"),
            Option(name: "fallback-after", kind: .number(RaceSettings.fallbackAfterRange), valueName: "MS", defaultValue: "1000", help: "auto: a connection that dies sooner, before any event, fails its transport"),
            Option(name: "headers", kind: .choice(RequestHeaderSet.allCases.map(\.rawValue)), valueName: "SET", defaultValue: "minimal", help: "request headers: a minimal client's, or the ones Chromium sends (about 500 B a request)"),
            Option(name: "format", kind: .choice(RaceFormat.allCases.map(\.rawValue)), valueName: "FORMAT", defaultValue: "table", help: "table, markdown, csv or json"),
            Option(name: "output", kind: .string, valueName: "FILE", defaultValue: nil, help: "write the report to FILE instead of stdout"),
            Option(name: "scenario", kind: .string, valueName: "FILE", defaultValue: nil, help: "read settings from a JSON file (flags win)"),
            Option(name: "clock", kind: .choice(RaceClockMode.allCases.map(\.rawValue)), valueName: "MODE", defaultValue: "auto", help: "estimate the server's clock offset: auto (remote hosts only) or estimate (always, loopback too)"),
            Option(name: "quiet", kind: .flag, valueName: "", defaultValue: nil, help: "no progress bar"),
        ],
        discussion: """
        Without --url, race starts its own server on a free port: in this process, or as a child
        `wirelab serve` when the clients need more open files than one process may hold. Clients
        connect first (connect_ms); the run's events are those the server publishes during
        --duration seconds. At the end our own server's generator is paused so nothing is in
        flight while clients close; pollers make one last request; WebSockets close with 1000.

        Columns (PROTOCOL.md §5), per transport:
          events       distinct events of the run received, per client (averaged over clients)
          missed       events of the run that never arrived, per client (averaged)
          dup          events received more than once, per client (averaged)
          p50..mean    latency in ms: receive time (after parsing) minus the event's ts,
                       over every client's first receipts; histogram error < 0.4 %
          requests     HTTP requests sent (a WebSocket handshake counts 1), all clients
          conns        TCP connections opened, all clients
          empty        polling answers with no events, all clients
          bytes up/down  TCP payload written/read, from write()/read() return values
          wire up/down   bytes + TCP/IP headers, estimated from the kernel's segment counts
                         (TCP_INFO segs_out/segs_in, read just before each socket closes):
                         wire = payload + segments × 52 (20 IPv4 + 20 TCP + 12 timestamp
                         option; 72 on IPv6), + 8 for each SYN's longer options, + the
                         closing segments sent after the read (FIN, FIN-ACK, last ACK).
                         Segments include SYN, FIN and pure ACKs; Ethernet framing is not.
          ledger       (JSON) where the wire bytes went: handshake, headers, framing,
                       payload, heartbeats, tcpip; they sum to wire up + wire down
          B/event      (bytes up + bytes down) / events delivered (events × clients)
          ooo          out of order: events first received after a higher id, per client
                       (averaged); a replayed duplicate is counted in dup only
          reconn       reconnections after a drop or a failed auto step, all clients
          rc p50/p99   ms from a drop to the first event received after it
          path         auto only: the transports it tried, e.g. ws>sse (most common path)
          1st event ms auto only: median time from first connect to first event
        JSON and CSV carry the same (reconnects, reconnect_ms, out_of_order, path,
        first_event_ms); JSON also connects_per_100ms: connection attempts of the
        transport's clients in each 100 ms of the run.

        Surviving the network (PROTOCOL.md §8): a client whose connection drops reconnects
        (--reconnect immediate: at once; backoff: 100 ms doubling to at most 5 s, back to
        100 ms once an event arrives; jitter: uniform in [0, that backoff]) and resumes where
        it stopped (since= / Last-Event-ID), so a drop costs latency, never events.
        --transports auto negotiates like SignalR or Engine.IO: WebSocket, then SSE, then long
        polling, then short polling, moving on after an HTTP error, a missing 101, or a
        connection that dies within --fallback-after ms of opening before any event.
        --via "FLAGS" starts `wirelab proxy --upstream <server> FLAGS` and sends the clients
        through it (/stats and /control still go direct). Byte counts are then what crossed the
        clients' sockets; they are compared with the server's /stats, and a difference is
        expected (and said so) only with proxy flags that rewrite or drop bytes in flight
        (--strip-upgrade, --cut-every, --kill-ws-after, --idle-timeout, --buffer).

        Short polls go out every --poll-interval s from the start (the first one interval in)
        and once more at the end. Clients are tagged client=race-<transport>-<k>, so the
        server's /stats?client=... shows the same byte counts; race checks that at the end.
        Clock: on the same host no correction is needed; for a remote --url the offset is
        estimated NTP-style from 8 GET /time requests and subtracted. --clock estimate does that
        on the same host too (the offset is then ~0 ± half a loopback round trip).

        Scenario files hold the same settings as JSON: url, transports, duration, rate, size,
        clients, poll_interval, format, headers (a lesson's "title" and "lesson" keys are ignored; any
        other key is a usage error).

        Examples:
          wirelab race
          wirelab race --transports sse,ws --clients 1000 --rate 10 --format json
          wirelab race --rate 5 --poll-interval 0.25 --format markdown --output race.md
          wirelab race --via "--cut-every 2" --reconnect backoff
          wirelab race --transports auto,ws --via "--strip-upgrade"
        """)

    static func run(_ args: [String]) -> Int32 {
        if args.first == "--floor" { return floor(Array(args.dropFirst())) }
        let parsed: ParsedArguments
        switch command.parse(args) {
        case .exit(let status): return status
        case .proceed(let p): parsed = p
        }

        var settings = RaceSettings()
        do {
            if let file = parsed.string("scenario") { settings = try RaceSettings(scenarioFile: file) }
            if let url = parsed.string("url") {
                do { _ = try RaceEndpoint(url: url) } catch { return usageError("wirelab race: --url must be http://HOST[:PORT] (got '\(url)')") }
                settings.url = url
            }
            if let t = parsed.string("transports") {
                settings.transports = try RaceSettings.parseTransports(t.split(separator: ",").map(String.init), what: "--transports")
            }
            if let d = parsed.double("duration") { settings.duration = d }
            if let r = parsed.double("rate") { settings.rate = r }
            if let s = parsed.int("size") { settings.size = s }
            if let c = parsed.int("clients") { settings.clients = c }
            if let p = parsed.double("poll-interval") { settings.pollInterval = p }
            if let f = parsed.string("format"), let format = RaceFormat(rawValue: f) { settings.format = format }
            if let c = parsed.string("clock"), let mode = RaceClockMode(rawValue: c) { settings.clock = mode }
            if let v = parsed.string("via") { settings.via = v }
            if let r = parsed.string("reconnect"), let kind = ReconnectKind(rawValue: r) { settings.reconnect = kind }
            if let f = parsed.double("fallback-after") { settings.fallbackAfter = f }
            if let h = parsed.string("headers"), let set = RequestHeaderSet(rawValue: h) { settings.headers = set }
            try settings.validate()
        } catch let e as RaceSettingsError {
            return usageError("wirelab race: " + e.message)
        } catch {
            return usageError("wirelab race: \(error)")
        }
        settings.serverExecutable = FileManager.default.fileExists(atPath: "/proc/self/exe") ? "/proc/self/exe" : CommandLine.arguments[0]

        // A bad --output path is a runtime failure, found before the run rather than after it.
        var outputFile: UnsafeMutablePointer<FILE>?
        if let path = parsed.string("output") {
            guard let f = fopen(path, "w") else {
                FileOutput.stderr("wirelab race: cannot write \(path): \(String(cString: strerror(errno)))")
                return 1
            }
            outputFile = f
        }
        if settings.url != nil && (parsed.has("rate") || parsed.has("size")) {
            FileOutput.stderr("wirelab race: note: --rate and --size apply to our own server; with --url the server's generator is its own")
        }

        let bar = ProgressBar(enabled: !parsed.has("quiet") && isatty(2) != 0)
        let result: RaceResult
        do {
            result = try Race(settings: settings).run(progress: bar.show)
        } catch let e as RaceSettingsError {
            bar.clear()
            if let f = outputFile { fclose(f) }
            return usageError("wirelab race: " + e.message)
        } catch {
            bar.clear()
            if let f = outputFile { fclose(f) }
            FileOutput.stderr("wirelab race: \(error)")
            return 1
        }
        bar.clear()
        let text = RaceReport.render(result, as: settings.format)
        if let f = outputFile, let path = parsed.string("output") {
            fputs(text, f)
            fclose(f)
            print("wrote \(path)")
        } else {
            print(text, terminator: "")
        }
        return 0
    }

    /// Hidden: `wirelab race --floor [--format json]` measures the raw-TCP floor (a 64-byte
    /// ping-pong over loopback) for the benchmark.
    static func floor(_ args: [String]) -> Int32 {
        do {
            let f = try Floor.measure()
            if args.contains("json") || args.contains("--format=json") {
                print(f.json)
            } else {
                let s = f.summary!
                print(String(format: "raw TCP floor (64-byte ping-pong over loopback, one way = RTT/2): p50 %.4f ms, p99 %.4f ms, mean %.4f ms", s.p50, s.p99, s.mean))
            }
            return 0
        } catch {
            FileOutput.stderr("wirelab race: \(error)")
            return 1
        }
    }
}

/// `[#######.............]  4.2/10 s  21 events` on stderr, redrawn in place; only on a terminal.
final class ProgressBar {
    let enabled: Bool
    private var drawn = false
    private let color = ProcessInfo.processInfo.environment["NO_COLOR"].map { $0.isEmpty } ?? true

    init(enabled: Bool) { self.enabled = enabled }

    func show(_ p: RaceProgress) {
        guard enabled else { return }
        let width = 30
        var line: String
        switch p.phase {
        case .connecting:
            let filled = p.clients == 0 ? 0 : width * p.connected / p.clients
            line = bar(filled, width) + "  connecting \(p.connected)/\(p.clients)"
        case .running, .finishing:
            let filled = min(width, Int(Double(width) * p.elapsed / max(p.total, 0.001)))
            line = bar(filled, width) + String(format: "  %.1f", p.elapsed) + "/\(formatSeconds(p.total)) s  \(p.events) events"
            if p.phase == .finishing { line += "  finishing" }
        }
        fputs("\r" + line + "\u{1B}[K", stderr)
        drawn = true
    }

    func clear() {
        guard enabled, drawn else { return }
        fputs("\r\u{1B}[K", stderr)
    }

    private func bar(_ filled: Int, _ width: Int) -> String {
        let done = String(repeating: "#", count: filled), rest = String(repeating: ".", count: width - filled)
        return color ? "[\u{1B}[32m\(done)\u{1B}[0m\(rest)]" : "[\(done)\(rest)]"
    }

    private func formatSeconds(_ s: Double) -> String { s == s.rounded() ? String(Int(s)) : String(s) }
}
