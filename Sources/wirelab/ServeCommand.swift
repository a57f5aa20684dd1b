// `wirelab serve`: run the server until SIGINT/SIGTERM (PROTOCOL.md §4).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import WireServer
import WireLoop

enum ServeCommand {
    static let command = Command(
        name: "serve",
        summary: "wirelab serve — one event stream over short polling, long polling, SSE and WebSocket.",
        usage: "wirelab serve [--host 127.0.0.1] [--port 8080] [--rate 2] [--size 64] [--history 10000] [--heartbeat 15] [--sse-retry MS] [--max-message 1048576] [--allow-origin ORIGIN]... [--max-queue 1048576] [--send-timeout 30] [--max-buffered 268435456] [--max-clients 10000]",
        options: [
            Option(name: "host", kind: .string, valueName: "HOST", defaultValue: "127.0.0.1", help: "address to listen on (0.0.0.0 or :: for every interface)"),
            Option(name: "port", kind: .integer(0...65535), valueName: "PORT", defaultValue: "8080", help: "TCP port; 0 picks a free one"),
            Option(name: "rate", kind: .number(0...100_000), valueName: "R", defaultValue: "2", help: "generated events per second, fractional allowed; 0 generates none"),
            Option(name: "size", kind: .integer(0...1_048_576), valueName: "B", defaultValue: "64", help: "characters of data in each generated event"),
            Option(name: "history", kind: .integer(1...10_000_000), valueName: "N", defaultValue: "10000", help: "events kept for resume (since=, Last-Event-ID)"),
            Option(name: "heartbeat", kind: .number(0.01...86_400), valueName: "S", defaultValue: "15", help: "seconds between SSE heartbeats and WebSocket pings"),
            Option(name: "sse-retry", kind: .integer(0...86_400_000), valueName: "MS", defaultValue: nil, help: "send `retry: MS` at the start of every SSE stream (EventSource's reconnection time)"),
            Option(name: "max-message", kind: .integer(1...(1 << 30)), valueName: "BYTES", defaultValue: "1048576", help: "largest WebSocket message accepted (close 1009 beyond)"),
            Option(name: "allow-origin", kind: .repeated, valueName: "ORIGIN", defaultValue: nil, help: "trust this browser Origin (besides the server's own) for publishing and control; with the flag, only these may read too; repeat for more"),
            Option(name: "max-queue", kind: .integer(1024...(1 << 40)), valueName: "BYTES", defaultValue: "1048576", help: "queued output per connection; a slower push subscriber is dropped (WebSocket 1013, SSE ends)"),
            Option(name: "send-timeout", kind: .number(0.1...86_400), valueName: "S", defaultValue: "30", help: "seconds queued output may make no progress before the connection is closed"),
            Option(name: "max-buffered", kind: .integer(1024...(1 << 50)), valueName: "BYTES", defaultValue: "268435456", help: "queued output of all connections; past it new requests get 503 and the biggest holders are dropped"),
            Option(name: "max-clients", kind: .integer(0...10_000_000), valueName: "N", defaultValue: "10000", help: "distinct client= names counted in /stats; later names count under \"(other)\""),
            Option(name: "loops", kind: .integer(0...256), valueName: "N", defaultValue: "one per core", help: "event-loop threads; they share one listening socket, and a new connection goes to a loop that is idle"),
            Option(name: "selector", kind: .choice(["epoll", "poll"]), valueName: "KIND", defaultValue: SelectorKind.platformDefault.rawValue, help: "readiness backend"),
            Option(name: "test-clock-skew-ms", kind: .number(-86_400_000...86_400_000), valueName: "MS", defaultValue: "0", help: "for tests only: shift this server's wall clock (event ts, GET /time) by MS ms, as a host whose clock is off would"),
        ],
        discussion: """
        Endpoints (PROTOCOL.md §2):
          GET  /poll?since=N             events after N, at once
          GET  /longpoll?since=N&timeout=T  the same, when there is one (or after T s)
          GET  /sse?since=N              text/event-stream, one block per event
          GET  /ws?since=N               WebSocket, one text message per event
          GET  /echo                     WebSocket echo
          POST /publish                  publish a chat message
          POST /control                  {"rate":R,"size":B}: change the generator
          GET  /stats  /time  /healthz   counters, server clock, liveness
          GET  /                         the classroom page
        Transport endpoints take client=NAME to tag their bytes in /stats.

        Trust and bounds (PROTOCOL.md §9): POST /publish, POST /control and the WebSocket publish
        command are accepted from a browser only when its Origin is the server's own (http:// +
        localhost, 127.x.x.x, [::1] or the address connected to, with this port) or listed with
        --allow-origin. While an answer is pending the server reads at most one more request head;
        pipelined requests are answered one at a time. A WebSocket Close unanswered for 5 s closes
        TCP; a fragmented message must complete within 1,000 frames and 30 s.

        The first stdout line is `wirelab listening on http://HOST:PORT`, the second the control
        token that lets non-loopback callers use POST /control. SIGINT or SIGTERM closes
        WebSockets with 1001, ends streams and exits 0.

        Example:
          wirelab serve --port 0 --rate 5
          curl -N http://127.0.0.1:8080/sse
        """)

    static func run(_ args: [String]) -> Int32 {
        let parsed: ParsedArguments
        switch command.parse(args) {
        case .exit(let status): return status
        case .proceed(let p): parsed = p
        }
        var config = ServerConfig()
        config.host = parsed.string("host") ?? config.host
        config.port = parsed.int("port") ?? config.port
        config.rate = parsed.double("rate") ?? config.rate
        config.size = parsed.int("size") ?? config.size
        config.history = parsed.int("history") ?? config.history
        config.heartbeat = parsed.double("heartbeat") ?? config.heartbeat
        config.sseRetryMillis = parsed.int("sse-retry")
        config.maxMessage = parsed.int("max-message") ?? config.maxMessage
        for value in parsed.all("allow-origin") {
            // Compared byte for byte with a browser's Origin header: refuse what could never match.
            guard let origin = serializedOrigin(value) else {
                return usageError("wirelab serve: --allow-origin must be an origin, scheme://host[:port] without a path (e.g. http://localhost:3000), or null (got '\(value)')")
            }
            config.allowOrigins.append(origin)
        }
        config.maxQueue = parsed.int("max-queue") ?? config.maxQueue
        config.sendTimeout = parsed.double("send-timeout") ?? config.sendTimeout
        config.maxBuffered = parsed.int("max-buffered") ?? config.maxBuffered
        config.maxClients = parsed.int("max-clients") ?? config.maxClients
        config.loops = parsed.int("loops") ?? 0
        if let s = parsed.string("selector"), let kind = SelectorKind(rawValue: s) { config.selector = kind }
        if let skew = parsed.double("test-clock-skew-ms"), skew != 0 {
            // For tests of race's clock-offset estimate (`race --clock estimate`) on one machine.
            let micros = Int64((skew * 1000).rounded())
            config.wallClock = { LoopClock.wallMicros() + micros }
        }

        // Signals are taken by sigwait on this thread; block them before the loop threads start
        // so they inherit the mask and never see them.
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &signals, nil)

        let server = Server(config: config)
        do {
            try server.start()
        } catch {
            FileOutput.stderr("wirelab serve: cannot listen on \(config.host):\(config.port): \(error)")
            return 1
        }
        print("wirelab listening on http://\(server.displayHost):\(server.port)")
        print("control token: \(server.controlToken)")
        fflush(stdout)

        var received: Int32 = 0
        sigwait(&signals, &received)
        server.shutdown(grace: 1.0)
        return 0
    }
}
