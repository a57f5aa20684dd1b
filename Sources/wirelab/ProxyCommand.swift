// `wirelab proxy`: a network you can set (PROTOCOL.md §7). Parses and validates the flags,
// starts the proxy, prints the listening line, waits for SIGINT/SIGTERM, prints the counters.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import WireProxy

enum ProxyCommand {
    static let command = Command(
        name: "proxy",
        summary: "wirelab proxy — a network you can set: delay, jitter, bandwidth, stalls and middleboxes between clients and a server.",
        usage: "wirelab proxy --upstream URL [--host 127.0.0.1] [--port 0] [--delay MS] [--jitter MS] [--bandwidth KBIT] [--stall-every S --stall-ms MS] [--buffer KIB] [--idle-timeout S] [--strip-upgrade] [--kill-ws-after MS] [--cut-every S]",
        options: [
            Option(name: "upstream", kind: .string, valueName: "URL", defaultValue: nil, help: "the server to relay to, http://HOST:PORT (required)"),
            Option(name: "host", kind: .string, valueName: "HOST", defaultValue: "127.0.0.1", help: "address to listen on"),
            Option(name: "port", kind: .integer(0...65535), valueName: "PORT", defaultValue: "0", help: "TCP port; 0 picks a free one"),
            Option(name: "delay", kind: .number(0...600_000), valueName: "MS", defaultValue: "0", help: "one-way delay of each direction: a round trip gains 2 x MS"),
            Option(name: "jitter", kind: .number(0...600_000), valueName: "MS", defaultValue: "0", help: "each chunk's delay is uniform in [delay-MS, delay+MS], never below 0; order kept"),
            Option(name: "bandwidth", kind: .number(0.001...100_000_000), valueName: "KBIT", defaultValue: "unlimited", help: "each direction of each connection paced to KBIT kilobit/s (token bucket)"),
            Option(name: "stall-every", kind: .number(0.001...86_400), valueName: "S", defaultValue: nil, help: "every S s (random phase per connection and direction) forwarding stops ..."),
            Option(name: "stall-ms", kind: .number(0...86_400_000), valueName: "MS", defaultValue: nil, help: "... for MS ms, as a lost segment's retransmission would stop it"),
            Option(name: "buffer", kind: .integer(1...65_536), valueName: "KIB", defaultValue: nil, help: "hold each HTTP response body until it ends or KIB KiB piled up (not after a 101)"),
            Option(name: "idle-timeout", kind: .number(0.001...86_400), valueName: "S", defaultValue: nil, help: "close both sides of a connection with no byte in either direction for S s"),
            Option(name: "strip-upgrade", kind: .flag, valueName: "", defaultValue: nil, help: "remove Upgrade and Connection: upgrade from requests"),
            Option(name: "kill-ws-after", kind: .number(0...86_400_000), valueName: "MS", defaultValue: nil, help: "reset (TCP RST) a connection MS ms after it switched to WebSocket"),
            Option(name: "cut-every", kind: .number(0.001...86_400), valueName: "S", defaultValue: nil, help: "every S s close every connection at once"),
            Option(name: "loops", kind: .integer(0...256), valueName: "N", defaultValue: "half the cores, at least 1", help: "event-loop threads"),
        ],
        discussion: """
        What each impairment models (PROTOCOL.md §7):
          --delay        distance: light in fibre and queues in routers. 50 ms each way is a
                         continent; a request-response transport pays it twice per exchange.
          --jitter       a path whose queues fill and drain. Chunks keep their order, as TCP
                         keeps it: a late chunk holds back the ones behind it.
          --bandwidth    a slow link (a phone on 3G is ~800 kbit/s): big responses take time.
          --stall-*      a lost segment: TCP stops everything behind it until the
                         retransmission arrives (head-of-line blocking).
          --buffer       a reverse proxy with response buffering on (nginx proxy_buffering):
                         an SSE stream arrives in bursts of KIB KiB, or never.
          --idle-timeout a load balancer that drops quiet connections (AWS ELB: 60 s);
                         heartbeats are what keep streams alive through it.
          --strip-upgrade  a proxy that does not know WebSocket: the server answers 426.
          --kill-ws-after  a middlebox that lets the 101 through, then resets the flow.
          --cut-every    a restart or failover: every connection closed at once, and every
                         client reconnects at once (a reconnect storm).
        Without impairments every byte goes through unchanged in both directions.

        The first stdout line is `wirelab proxy listening on http://HOST:PORT -> UPSTREAM`.
        SIGINT or SIGTERM closes every connection, prints one JSON line of counters (connections,
        bytes each way on each side, how often each impairment fired) and exits 0. An upstream
        that refuses gives the client a 502; the proxy keeps serving.

        Example:
          wirelab serve --port 8080 &
          wirelab proxy --upstream http://127.0.0.1:8080 --port 8081 --delay 50 --jitter 20
          curl -N http://127.0.0.1:8081/sse
        """)

    /// Turns parsed flags into a config, or a usage error naming the flag.
    static func config(from parsed: ParsedArguments) throws -> ProxyConfig {
        func fail(_ message: String) -> UsageError { UsageError(message: "wirelab proxy: \(message)") }
        var config = ProxyConfig()
        guard let upstream = parsed.string("upstream") else {
            throw fail("--upstream is required: the server's URL, http://HOST:PORT")
        }
        guard let (host, port) = ProxyConfig.parseUpstream(upstream) else {
            throw fail("--upstream must be an http://HOST:PORT URL (got '\(upstream)')")
        }
        config.upstreamURL = upstream
        config.upstreamHost = host
        config.upstreamPort = port
        config.host = parsed.string("host") ?? config.host
        config.port = parsed.int("port") ?? config.port
        config.loops = parsed.int("loops") ?? 0
        config.delayMs = parsed.double("delay") ?? 0
        config.jitterMs = parsed.double("jitter") ?? 0
        config.bandwidthKbit = parsed.double("bandwidth")
        switch (parsed.double("stall-every"), parsed.double("stall-ms")) {
        case (nil, nil): break
        case (_?, nil): throw fail("--stall-every needs --stall-ms MS (how long each stall lasts)")
        case (nil, _?): throw fail("--stall-ms needs --stall-every S (how often a stall comes)")
        case let (every?, ms?):
            guard ms < every * 1000 else {
                throw fail("--stall-ms must be less than --stall-every in ms (got \(ms) ms every \(every) s)")
            }
            config.stallEverySeconds = every
            config.stallMs = ms
        }
        config.bufferKiB = parsed.int("buffer")
        config.idleTimeoutSeconds = parsed.double("idle-timeout")
        config.stripUpgrade = parsed.has("strip-upgrade")
        config.killWebSocketAfterMs = parsed.double("kill-ws-after")
        config.cutEverySeconds = parsed.double("cut-every")
        return config
    }

    static func run(_ args: [String]) -> Int32 {
        let parsed: ParsedArguments
        switch command.parse(args) {
        case .exit(let status): return status
        case .proceed(let p): parsed = p
        }
        let config: ProxyConfig
        do { config = try Self.config(from: parsed) } catch let e as UsageError {
            return usageError(e.message)
        } catch { return usageError("wirelab proxy: \(error)") }

        // Signals are taken by sigwait on this thread; block them before the loop threads start.
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &signals, nil)

        let proxy = Proxy(config: config)
        do {
            try proxy.start()
        } catch {
            FileOutput.stderr("wirelab proxy: cannot listen on \(config.host):\(config.port): \(error)")
            return 1
        }
        print(proxy.listeningLine)
        fflush(stdout)
        let needed = Proxy.filesNeeded(connections: 10_000)
        if proxy.openFileLimit < needed {
            FileOutput.stderr("wirelab proxy: the open-file hard limit is \(proxy.openFileLimit): at most about \((proxy.openFileLimit - 64) / 2) connections (10,000 need \(needed); raise it with `ulimit -Hn` as root)")
        }

        var received: Int32 = 0
        sigwait(&signals, &received)
        let counters = proxy.shutdown()
        print(counters.json)
        fflush(stdout)
        return 0
    }
}
